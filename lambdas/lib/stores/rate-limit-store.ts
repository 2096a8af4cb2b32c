/**
 * Rate-limit counters in the security table (design §8): one item per tier, key and fixed
 * window, `PK=SK=RL#<tier>#<key>#<window>`, expiring by TTL two windows later. Increments are
 * atomic conditional `UpdateItem`s, so concurrent requests on many instances never overshoot.
 */
import { UpdateCommand, type DocumentClient, isConditionFailure } from './document-client.js';
import { consistentReads } from './consistent-reads.js';
import { boundedKeyPart } from './key-part.js';
import { SECURITY_SCHEMA } from './table-schema.js';
import type { CounterRef, RateLimitStore } from '../rate-limiter.js';

const { partitionKey: PK, sortKey: SK } = SECURITY_SCHEMA;
/** The key of a counter; the tier and key parts are bounded, since keys carry caller text (sessions, users). */
export const counterKey = (c: CounterRef): string =>
  `RL#${boundedKeyPart(c.tier)}#${boundedKeyPart(c.key)}#${c.window}`;
const keyOf = (c: CounterRef) => {
  const id = counterKey(c);
  return { [PK]: id, [SK]: id };
};

export interface DynamoRateLimitStoreOptions {
  readonly client: DocumentClient;
  readonly tableName: string;
}

/** `RateLimitStore` on the security table. */
export class DynamoRateLimitStore implements RateLimitStore {
  readonly #client: DocumentClient;
  readonly #table: string;

  constructor(options: DynamoRateLimitStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async read(counter: CounterRef): Promise<number> {
    // Joins the request's other security reads in one BatchGetItem.
    const item = await consistentReads(this.#client).get(this.#table, keyOf(counter));
    return Number(item?.count ?? 0);
  }

  async incrementBelow(counter: CounterRef, below: number, expiresAt: number): Promise<number | undefined> {
    if (below <= 0) return undefined;
    try {
      const result = await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keyOf(counter),
          UpdateExpression: 'ADD #count :one SET expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :below',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':one': 1, ':below': below, ':exp': expiresAt },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(result.Attributes?.count);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async decrement(counter: CounterRef): Promise<void> {
    await this.#client
      .send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keyOf(counter),
          UpdateExpression: 'ADD #count :minus',
          ConditionExpression: '#count > :zero',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  async increment(counter: CounterRef, expiresAt: number): Promise<number> {
    const result = await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: keyOf(counter),
        UpdateExpression: 'ADD #count :one SET expiresAt = :exp',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': 1, ':exp': expiresAt },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(result.Attributes?.count);
  }
}
