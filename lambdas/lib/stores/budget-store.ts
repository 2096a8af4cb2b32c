/**
 * Budget counters in the security table (design §12): one item per scope, key and UTC day,
 * `PK=SK=BUDGET#<scope>#<key>#<day>` (the deployment's key is its shard number; session and user
 * ids go through `boundedKeyPart`), expiring by TTL
 * two days after the day ends. Reservations are atomic conditional `UpdateItem`s.
 */
import { UpdateCommand, type DocumentClient, isConditionFailure } from './document-client.js';
import { consistentReads } from './consistent-reads.js';
import type { BudgetChange, BudgetCounter, BudgetCounterRef, BudgetStore } from '../budget.js';
import { boundedKeyPart } from './key-part.js';
import { SECURITY_SCHEMA } from './table-schema.js';

const { partitionKey: PK, sortKey: SK } = SECURITY_SCHEMA;
/** `BUDGET#<scope>#<key>#<day>`: the key holds a caller-controlled id (session, user), bounded in UTF-8 bytes (issue 16). */
export const budgetCounterId = (ref: BudgetCounterRef): string =>
  `BUDGET#${ref.scope}#${boundedKeyPart(ref.key)}#${ref.day}`;
const keyOf = (ref: BudgetCounterRef) => {
  const id = budgetCounterId(ref);
  return { [PK]: id, [SK]: id };
};

export interface DynamoBudgetStoreOptions {
  readonly client: DocumentClient;
  readonly tableName: string;
}

/** `BudgetStore` on the security table. */
export class DynamoBudgetStore implements BudgetStore {
  readonly #client: DocumentClient;
  readonly #table: string;

  constructor(options: DynamoBudgetStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async reserve(ref: BudgetCounterRef, amount: number, cap: number, expiresAt: number): Promise<boolean> {
    if (amount > cap) return false;
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keyOf(ref),
          UpdateExpression: 'ADD reserved :amount SET expiresAt = :exp',
          // reserved + amount <= cap, written without arithmetic (condition expressions have none).
          ConditionExpression: 'attribute_not_exists(reserved) OR reserved <= :room',
          ExpressionAttributeValues: { ':amount': amount, ':room': cap - amount, ':exp': expiresAt },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async settle(ref: BudgetCounterRef, change: BudgetChange, expiresAt: number): Promise<void> {
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: keyOf(ref),
        UpdateExpression: 'ADD reserved :r, inputTokens :i, outputTokens :o, turns :t SET expiresAt = :exp',
        ExpressionAttributeValues: {
          ':r': change.reserved,
          ':i': change.inputTokens,
          ':o': change.outputTokens,
          ':t': change.turns,
          ':exp': expiresAt,
        },
      }),
    );
  }

  /** Strongly consistent, through the shared batched reader: 503 when DynamoDB keeps throttling. */
  async read(refs: readonly BudgetCounterRef[]): Promise<BudgetCounter[]> {
    const reads = consistentReads(this.#client);
    const items = await Promise.all(refs.map((ref) => reads.get(this.#table, keyOf(ref))));
    return items.map((item) => {
      const n = (name: string) => Number(item?.[name] ?? 0);
      return {
        reserved: n('reserved'),
        inputTokens: n('inputTokens'),
        outputTokens: n('outputTokens'),
        turns: n('turns'),
      };
    });
  }

  async markExceeded(ref: BudgetCounterRef, expiresAt: number): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keyOf(ref),
          UpdateExpression: 'SET exceededNotified = :yes, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(exceededNotified)',
          ExpressionAttributeValues: { ':yes': true, ':exp': expiresAt },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
