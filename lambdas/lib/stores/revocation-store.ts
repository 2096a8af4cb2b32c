/**
 * Revoked widget tokens in the security table (design §8): `REVOKED#<jti or sha256(token)>`
 * with a TTL at the token's expiry, and `USERREV#<userId>` holding `revokedBefore` (every token of
 * that user issued at or before that second is revoked). Both are read strongly consistent in one
 * `BatchGetItem`, shared with the request's other security reads (`consistent-reads.ts`).
 */
import { PutCommand, UpdateCommand, type DocumentClient, isConditionFailure } from './document-client.js';
import { consistentReads } from './consistent-reads.js';
import { epochSeconds } from '../time.js';
import { boundedKeyPart } from './key-part.js';
import { SECURITY_SCHEMA } from './table-schema.js';
import type { RevocationStore } from '../revocation.js';

const { partitionKey: PK, sortKey: SK } = SECURITY_SCHEMA;

/** The key of one revoked token (a `jti` is caller text of any length: bounded). */
export const revokedTokenKey = (revocationId: string): string => `REVOKED#${boundedKeyPart(revocationId)}`;
/** The key of a user-wide revocation. */
export const userRevocationKey = (userId: string): string => `USERREV#${boundedKeyPart(userId)}`;

export interface DynamoRevocationStoreOptions {
  readonly client: DocumentClient;
  readonly tableName: string;
}

/** `RevocationStore` on the security table. */
export class DynamoRevocationStore implements RevocationStore {
  readonly #client: DocumentClient;
  readonly #table: string;

  constructor(options: DynamoRevocationStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async revokeToken(revocationId: string, expiresAt: number): Promise<void> {
    const key = revokedTokenKey(revocationId);
    await this.#client.send(new PutCommand({ TableName: this.#table, Item: { [PK]: key, [SK]: key, expiresAt } }));
  }

  async revokeUser(userId: string, atSeconds: number, ttlSeconds: number): Promise<void> {
    const key = userRevocationKey(userId);
    await this.#client
      .send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { [PK]: key, [SK]: key },
          // Never move the line back: a later revocation only ever extends it.
          UpdateExpression: 'SET revokedBefore = :at, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(revokedBefore) OR revokedBefore <= :at',
          ExpressionAttributeValues: { ':at': atSeconds, ':exp': atSeconds + ttlSeconds },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  async isRevoked(
    token: { revocationId: string; userId: string; iat: number | undefined },
    nowMs: number,
  ): Promise<boolean> {
    const tokenKey = revokedTokenKey(token.revocationId);
    const userKey = userRevocationKey(token.userId);
    // Both reads join the request's other security reads in one BatchGetItem.
    const reads = consistentReads(this.#client);
    const items = await Promise.all([
      reads.get(this.#table, { [PK]: tokenKey, [SK]: tokenKey }),
      reads.get(this.#table, { [PK]: userKey, [SK]: userKey }),
    ]);
    const found = items.filter((item): item is Record<string, unknown> => item !== undefined);
    const now = epochSeconds(nowMs);
    return found.some((item) => {
      if (Number(item.expiresAt) <= now) return false;
      if (item[PK] === tokenKey) return true;
      return (token.iat ?? 0) <= Number(item.revokedBefore);
    });
  }
}
