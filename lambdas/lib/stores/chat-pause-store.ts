/**
 * The chat pause switch in the security table (design §12), written to `REPLICAS` identical items
 * `PK=SK=CHAT#PAUSE#<n>` and read from one picked at random. Every instance reads the switch
 * once per 4 s: at 10,000 chats/s of several seconds each that is tens of thousands of instances,
 * thousands of reads a second, more than one item's partition serves (3,000 read units/s). Sixteen
 * replicas bring it under 1,000 a second each; pausing writes all of them in one `BatchWriteItem`.
 */
import { randomInt } from 'node:crypto';
import { BatchWriteCommand, type BatchWriteCommandOutput, type DocumentClient } from './document-client.js';
import type { PauseState, PauseStore } from '../chat-pause.js';
import { consistentReads } from './consistent-reads.js';
import { SECURITY_SCHEMA } from './table-schema.js';

/** How many copies of the switch there are. */
export const PAUSE_REPLICAS = 16;
const MAX_ATTEMPTS = 5;

const keyOf = (replica: number) => {
  const id = `CHAT#PAUSE#${replica}`;
  return { [SECURITY_SCHEMA.partitionKey]: id, [SECURITY_SCHEMA.sortKey]: id };
};
const ALL = Array.from({ length: PAUSE_REPLICAS }, (_, i) => i);

export interface DynamoPauseStoreOptions {
  readonly client: DocumentClient;
  readonly tableName: string;
  /** A replica index below `n`. @default crypto.randomInt */
  readonly pickReplica?: (n: number) => number;
}

/** `PauseStore` on the security table. */
export class DynamoPauseStore implements PauseStore {
  readonly #client: DocumentClient;
  readonly #table: string;
  readonly #pick: (n: number) => number;

  constructor(options: DynamoPauseStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#pick = options.pickReplica ?? ((n) => randomInt(n));
  }

  async get(): Promise<PauseState | undefined> {
    // Joins the request's security reads in one BatchGetItem when the switch is due for a read.
    const item = await consistentReads(this.#client).get(this.#table, keyOf(this.#pick(PAUSE_REPLICAS)));
    if (!item) return undefined;
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    return { reason: text(item.reason), since: Number(item.since ?? 0), by: text(item.by) };
  }

  async put(state: PauseState): Promise<void> {
    await this.#write(ALL.map((i) => ({ PutRequest: { Item: { ...keyOf(i), ...state } } })));
  }

  async delete(): Promise<void> {
    await this.#write(ALL.map((i) => ({ DeleteRequest: { Key: keyOf(i) } })));
  }

  /** Writes every replica; unprocessed writes are retried a bounded number of times, then it throws. */
  async #write(requests: NonNullable<BatchWriteCommandOutput['UnprocessedItems']>[string]): Promise<void> {
    let pending: typeof requests | undefined = requests;
    for (let attempt = 0; pending && pending.length > 0; attempt += 1) {
      if (attempt === MAX_ATTEMPTS) throw new Error('The chat pause switch could not be written to every replica.');
      const result: BatchWriteCommandOutput = await this.#client.send(
        new BatchWriteCommand({ RequestItems: { [this.#table]: pending } }),
      );
      pending = result.UnprocessedItems?.[this.#table];
    }
  }
}
