/**
 * What start:synth changes in the template's function environment because a service of the
 * deployment does not run here. AWS WAF is not in front of the local API, so with
 * `VISITOR_CHALLENGE=waf` the functions would mint visitor tokens for nothing: as `npm start`
 * does (design §14), the proof of work stands in for the WAF's challenge.
 */

/** `environment` with `VISITOR_CHALLENGE=waf` replaced by `pow`; anything else unchanged. */
export function standInForWaf(environment: Readonly<Record<string, string>>): Record<string, string> {
  return environment.VISITOR_CHALLENGE === 'waf' ? { ...environment, VISITOR_CHALLENGE: 'pow' } : { ...environment };
}
