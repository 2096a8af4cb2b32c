/**
 * The port for revoked widget tokens (design §8): one token by its revocation id, or every token
 * a user was issued up to a second. `stores/revocation-store.ts` keeps them in DynamoDB.
 */

/** Storage of revocations. */
export interface RevocationStore {
  /** Revokes one token until `expiresAt` (epoch seconds), after which it is dead anyway. */
  revokeToken(revocationId: string, expiresAt: number): Promise<void>;
  /** Revokes every token of `userId` issued at or before `atSeconds`, for `ttlSeconds`. */
  revokeUser(userId: string, atSeconds: number, ttlSeconds: number): Promise<void>;
  /** True when the token is revoked, by id or by its user. Tokens without `iat` count as issued at 0. */
  isRevoked(token: { revocationId: string; userId: string; iat: number | undefined }, nowMs: number): Promise<boolean>;
}
