/**
 * Spent visitor-token challenges in the security table (design §14): `POW#<challenge>` written
 * with a conditional put, so of any number of concurrent redemptions of one solution on any
 * number of instances exactly one wins. Keyed by the challenge itself (not by the payload's
 * bytes, which a replay could vary), kept until the challenge expires (TTL), after which it is
 * refused as expired anyway.
 */
import { PutCommand, type DocumentClient, isConditionFailure } from './document-client.js';
import { SECURITY_SCHEMA } from './table-schema.js';
import type { SpentChallengeStore } from '../visitors/redeem.js';

const { partitionKey: PK, sortKey: SK } = SECURITY_SCHEMA;

export interface DynamoSpentChallengeStoreOptions {
  readonly client: DocumentClient;
  readonly tableName: string;
}

/** `SpentChallengeStore` on the security table. */
export class DynamoSpentChallengeStore implements SpentChallengeStore {
  readonly #client: DocumentClient;
  readonly #table: string;

  constructor(options: DynamoSpentChallengeStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async spend(challenge: string, expiresAt: number): Promise<boolean> {
    const key = `POW#${challenge}`;
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { [PK]: key, [SK]: key, expiresAt },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
