/**
 * Origin binding (design §14): a widget token that carries an `origin` claim is good only on
 * requests whose `Origin` header equals it, character for character, so a token lifted from one
 * site fails on every other (another scheme, host, port or spelling; or no `Origin` at all).
 * Browsers send `Origin` as they serialize it, which is the form the claim must have.
 */
import type { VerifiedToken } from './tokens.js';
import { InvalidTokenError } from './errors.js';

/** Throws `InvalidTokenError` (401) when `token` is bound to an origin other than `requestOrigin`. */
export function checkTokenOrigin(token: VerifiedToken, requestOrigin: string | undefined): void {
  if (token.origin !== undefined && requestOrigin !== token.origin) throw new InvalidTokenError('origin_mismatch');
}
