/**
 * Budget counters in the security table (design §12): one item per scope, key and UTC day,
 * `PK=SK=BUDGET#<scope>#<key>#<day>` (the deployment's key is its shard number; session and user
 * ids go through `boundedKeyPart`), expiring by TTL
 * two days after the day ends. Reservations are atomic conditional `UpdateItem`s.
 */
import {
  BatchGetCommand,
  UpdateCommand,
  type BatchGetCommandOutput,
  type DocumentClient,
  isConditionFailure,
} from './document-client.js';
import type { BudgetChange, BudgetCounter, BudgetCounterRef, BudgetStore } from '../budget.js';
import { boundedKeyPart } from './key-part.js';
import { SECURITY_SCHEMA } from './table-schema.js';

const { partitionKey: PK, sortKey: SK } = SECURITY_SCHEMA;
/** `BUDGET#<scope>#<key>#<day>`: the key holds a caller-controlled id (session, user), bounded in UTF-8 bytes (issue 16). */
export const budgetCounterId = (ref: BudgetCounterRef): string =>
  `BUDGET#${ref.scope}#${boundedKeyPart(ref.key)}#${ref.day}`;
const keyOf = (ref: BudgetCounterRef) => ({ [PK]: budgetCounterId(ref), [SK]: budgetCounterId(ref) });
/** BatchGetItem takes at most 100 keys per call. */
const BATCH = 100;
const MAX_ATTEMPTS = 5;

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

  async read(refs: readonly BudgetCounterRef[]): Promise<BudgetCounter[]> {
    const found = new Map<string, Record<string, unknown>>();
    const batches = Array.from({ length: Math.ceil(refs.length / BATCH) }, (_, i) =>
      refs.slice(i * BATCH, (i + 1) * BATCH),
    );
    await Promise.all(
      batches.map(async (batch) => {
        let keys: Record<string, unknown>[] | undefined = batch.map(keyOf);
        // Unprocessed keys (throttling) are asked again, a bounded number of times.
        for (let attempt = 0; keys && keys.length > 0; attempt += 1) {
          if (attempt === MAX_ATTEMPTS) throw new Error('Budget counters could not be read (throttled).');
          const result: BatchGetCommandOutput = await this.#client.send(
            new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: keys, ConsistentRead: true } } }),
          );
          for (const item of result.Responses?.[this.#table] ?? []) found.set(String(item[PK]), item);
          keys = result.UnprocessedKeys?.[this.#table]?.Keys;
        }
      }),
    );
    return refs.map((ref) => {
      const item = found.get(budgetCounterId(ref));
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
