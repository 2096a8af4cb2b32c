/**
 * The wire contract every answer shares (design §3, §6), written once: the security headers and
 * the JSON error body. The middleware chain, the local server, the API Gateway gateway responses
 * (`lib/constructs/api.ts`), the WAF's custom response and the tests all derive from here.
 */
import type { ErrorCode, ErrorDetail } from '../lib/errors.js';

/** `Strict-Transport-Security`: one year with subdomains, not preloaded (preload is the operator's call). */
const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * The security headers of a JSON API (OWASP Secure Headers Project), sent on every response,
 * errors and preflight included. HSTS only in production: a development server on plain HTTP
 * must not pin browsers to HTTPS for a year.
 */
const DEVELOPMENT_HEADERS = Object.freeze({
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Origin-Agent-Cluster': '?1',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-DNS-Prefetch-Control': 'off',
  'X-Download-Options': 'noopen',
  'X-Frame-Options': 'DENY',
  'X-Permitted-Cross-Domain-Policies': 'none',
  'Cache-Control': 'no-store',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
});
const PRODUCTION_HEADERS = Object.freeze({ ...DEVELOPMENT_HEADERS, 'Strict-Transport-Security': HSTS });

/** The security headers AWS WAF's own 429 carries too (`lib/constructs/waf.ts`): those on every answer. */
export const WAF_SECURITY_HEADERS: readonly string[] = ['Cache-Control', 'X-Content-Type-Options'];

/** Response headers that say what serves the API; removed from every answer. */
export const FINGERPRINT_HEADERS: readonly string[] = ['Server', 'X-Powered-By'];

/** The security headers for `production` (with HSTS) or development (without), by canonical name. */
export function securityHeaderTable(production: boolean): Readonly<Record<string, string>> {
  return production ? PRODUCTION_HEADERS : DEVELOPMENT_HEADERS;
}

const SERVER_ERROR_MESSAGES: Readonly<Record<number, string>> = {
  502: 'The model provider failed to answer.',
  503: 'The service is temporarily unavailable. Try again later.',
};
/** What the client reads for a 500: nothing about the cause. */
export const INTERNAL_ERROR_MESSAGE = 'An unexpected error occurred.';

/** What the client reads for an error whose own message is not exposed (every 5xx), by status. */
export const serverErrorMessage = (status: number): string => SERVER_ERROR_MESSAGES[status] ?? INTERNAL_ERROR_MESSAGE;

/** The optional members of an error body. */
export interface ErrorExtra {
  /** Seconds until a retry may succeed (429, from `Retry-After`). */
  readonly retry_after?: number;
  /** What failed validation (400 `VALIDATION_FAILED`). */
  readonly details?: readonly ErrorDetail[];
}

/** The contract's error body: `{"error":{"code","message",details?,retry_after?}}`. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string } & ErrorExtra;
}

/** Builds the contract's error body; `extra` members that are undefined are left out. */
export function errorBody(code: ErrorCode, message: string, extra: ErrorExtra = {}): ErrorBody {
  return {
    error: {
      code,
      message,
      ...(extra.details === undefined ? {} : { details: extra.details }),
      ...(extra.retry_after === undefined ? {} : { retry_after: extra.retry_after }),
    },
  };
}
