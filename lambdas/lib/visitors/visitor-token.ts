/**
 * Visitor tokens (design §14): a widget token for an anonymous visitor, whose identity is a fresh
 * random `visitorId`, marked `anon: true` and bound to the site (`origin`) it was issued for.
 * A visitor is then a user like any other: it owns its sessions and has its own limits.
 */
import { randomBytes } from 'node:crypto';
import { OriginNotAllowedError } from '../errors.js';
import { isSerializedOrigin } from '../origins.js';
import { mintWidgetToken, type TokenPolicy } from '../tokens.js';

/** A visitor token, as `POST /v1/visitor-tokens` returns it. */
export interface MintedVisitorToken {
  readonly token: string;
  readonly tokenType: 'Bearer';
  readonly expiresAt: string;
  readonly visitorId: string;
}

/**
 * The origin a visitor token is bound to: the request's allowed `Origin` (CORS has approved it),
 * as browsers serialize it. A request without one (not from a page) gets 403 `ORIGIN_NOT_ALLOWED`.
 */
export function visitorOrigin(allowedOrigin: string | undefined): string {
  if (allowedOrigin === undefined || !isSerializedOrigin(allowedOrigin)) throw new OriginNotAllowedError();
  return allowedOrigin;
}

/** A new visitor id: `v_` and 22 base64url characters (128 random bits). */
export function newVisitorId(): string {
  return `v_${randomBytes(16).toString('base64url')}`;
}

/** Signs a visitor token for a new visitor of `origin` with the current signing secret, valid `ttlSeconds`. */
export async function mintVisitorToken(
  secret: string,
  input: { origin: string; ttlSeconds: number },
  policy: Omit<TokenPolicy, 'maxTtlSeconds'>,
  nowMs: number,
): Promise<MintedVisitorToken> {
  const visitorId = newVisitorId();
  const minted = await mintWidgetToken(
    secret,
    { userId: visitorId, expiresInSeconds: input.ttlSeconds, visitor: { origin: input.origin } },
    policy,
    nowMs,
  );
  return { token: minted.token, tokenType: 'Bearer', expiresAt: minted.expiresAt, visitorId };
}
