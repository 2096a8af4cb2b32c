/**
 * CORS origin allow-list: exact origins (`https://app.example.com`) and subdomain wildcards
 * (`https://*.example.com`: any subdomain, never the bare domain, same scheme and port).
 * Rules are parsed once at cold start; matching is a pure function of the Origin header.
 */

/** One parsed allow-list entry. */
export type OriginRule =
  | { readonly kind: 'any' }
  | { readonly kind: 'exact'; readonly origin: string }
  | { readonly kind: 'wildcard'; readonly scheme: string; readonly suffix: string; readonly port: string };

interface ParsedOrigin {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: string;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443' };
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST = new RegExp(`^(?:${LABEL})(?:\\.${LABEL})*$`);
const ORIGIN = /^(https?):\/\/([^/:?#@\s]+)(?::(\d{1,5}))?$/;

/** Parses an origin as browsers serialize it; returns undefined for anything else (paths, userinfo, `null`). */
export function parseOrigin(value: string): ParsedOrigin | undefined {
  const match = ORIGIN.exec(value.toLowerCase());
  if (!match) return undefined;
  const [, scheme, host, rawPort] = match as unknown as [string, 'http' | 'https', string, string | undefined];
  if (!HOST.test(host) || host.length > 253) return undefined;
  if (rawPort !== undefined && (Number(rawPort) < 1 || Number(rawPort) > 65535 || rawPort.startsWith('0'))) {
    return undefined;
  }
  const port = rawPort === undefined || rawPort === DEFAULT_PORTS[scheme] ? '' : rawPort;
  return { scheme, host, port };
}

const serialize = (o: ParsedOrigin): string => `${o.scheme}://${o.host}${o.port ? `:${o.port}` : ''}`;

/** True when `value` is an origin exactly as browsers serialize it (lower case, no default port, no slash). */
export function isSerializedOrigin(value: string): boolean {
  const parsed = parseOrigin(value);
  return parsed !== undefined && serialize(parsed) === value;
}

/** Parses a comma-separated allow-list, collecting a message for every bad entry. */
export function parseOriginList(
  raw: string,
  options: { readonly allowStar: boolean },
): { rules: OriginRule[]; problems: string[] } {
  const rules: OriginRule[] = [];
  const problems: string[] = [];
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    if (entry === '*') {
      if (options.allowStar) rules.push({ kind: 'any' });
      else problems.push('must not contain "*" when APP_ENV=production; list the exact origins');
      continue;
    }
    const wildcard = /^(https?):\/\/\*\.(.+)$/i.exec(entry);
    const parsed = parseOrigin(wildcard ? `${wildcard[1]}://${wildcard[2]}` : entry);
    if (!parsed) {
      problems.push(
        `has an invalid entry ${JSON.stringify(entry.slice(0, 100))}: use scheme://host[:port] or scheme://*.domain[:port], without a path`,
      );
      continue;
    }
    if (wildcard) {
      if (!parsed.host.includes('.')) {
        problems.push(
          `has a wildcard over a top-level domain ${JSON.stringify(entry.slice(0, 100))}: use at least *.example.com`,
        );
        continue;
      }
      rules.push({ kind: 'wildcard', scheme: parsed.scheme, suffix: `.${parsed.host}`, port: parsed.port });
    } else {
      rules.push({ kind: 'exact', origin: serialize(parsed) });
    }
  }
  return { rules, problems };
}

/** True when `origin` (the raw Origin header) is allowed by `rules`. */
export function isOriginAllowed(origin: string, rules: readonly OriginRule[]): boolean {
  const parsed = parseOrigin(origin);
  if (!parsed) return false;
  const normalized = serialize(parsed);
  return rules.some((rule) => {
    switch (rule.kind) {
      case 'any':
        return true;
      case 'exact':
        return rule.origin === normalized;
      case 'wildcard':
        return (
          parsed.scheme === rule.scheme &&
          parsed.port === rule.port &&
          parsed.host.endsWith(rule.suffix) &&
          parsed.host.length > rule.suffix.length
        );
    }
  });
}
