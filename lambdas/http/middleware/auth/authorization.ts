/**
 * The `Authorization` header, read once per request (RFC 6750 §2.1 `Bearer` scheme) and passed
 * to the check of the route's credential. The parsed value is not kept on the request state,
 * so no credential can reach a log line that prints the state.
 */

/** What a request's `Authorization` header holds. */
export interface Authorization {
  /** Whether the header was sent at all (an empty header counts as sent). */
  readonly present: boolean;
  /** The `Bearer` credential (visible ASCII), when the header has that form; its length is not checked here. */
  readonly bearer?: string;
}

const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

/** Parses the (lower-cased) `authorization` header of `headers`. */
export function readAuthorization(headers: Readonly<Record<string, string | undefined>>): Authorization {
  const header = headers.authorization;
  if (header === undefined) return { present: false };
  const bearer = BEARER.exec(header)?.[1];
  return bearer === undefined ? { present: true } : { present: true, bearer };
}

/** The challenge of bearer-key routes, and of a widget route whose required token is missing. */
export const BEARER_CHALLENGE: Readonly<Record<string, string>> = { 'WWW-Authenticate': 'Bearer realm="chat-widget"' };

/** Credentials longer than this are treated as absent, before any comparison. */
export const MAX_CREDENTIAL_CHARS = 4096;
