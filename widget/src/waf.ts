/**
 * The AWS WAF JavaScript integration (deployed with `visitorChallenge=waf`, design §14): loads
 * the web ACL's integration script once and asks it for a WAF token, which the widget sends as
 * `X-Aws-Waf-Token` when it mints a visitor token. The page's CSP must allow the script's origin
 * in `script-src` and `connect-src`.
 */
import { ChatError } from './errors.js';

/** The integration script's global (AWS WAF JavaScript integration API). */
interface AwsWafIntegration {
  getToken(): Promise<string>;
}

/** Loads `src` as a script; resolves when it has run. */
function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.async = true;
    script.addEventListener('load', () => resolve(), { once: true });
    script.addEventListener('error', () => reject(new ChatError('NETWORK_ERROR', 0)), { once: true });
    document.head.append(script);
  });
}

/** A source of WAF tokens from the integration script at `integrationUrl` (loaded on first use). */
export function wafTokens(integrationUrl: string): () => Promise<string> {
  let loaded: Promise<void> | undefined;
  return async () => {
    loaded ??= loadScript(integrationUrl);
    await loaded;
    const integration = (window as { AwsWafIntegration?: AwsWafIntegration }).AwsWafIntegration;
    if (!integration) throw new ChatError('TOKEN_UNAVAILABLE', 0);
    return integration.getToken();
  };
}
