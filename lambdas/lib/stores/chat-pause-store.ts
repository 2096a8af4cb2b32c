/** The chat pause switch in the security table (design §12): one item, `PK=SK=CHAT#PAUSE`. */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PauseState, PauseStore } from '../chat-pause.js';
import { SECURITY_SCHEMA } from './table-schema.js';

const ID = 'CHAT#PAUSE';
const KEY = { [SECURITY_SCHEMA.partitionKey]: ID, [SECURITY_SCHEMA.sortKey]: ID };

export interface DynamoPauseStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** `PauseStore` on the security table. */
export class DynamoPauseStore implements PauseStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoPauseStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async get(): Promise<PauseState | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: KEY, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return { reason: String(Item.reason ?? ''), since: Number(Item.since ?? 0), by: String(Item.by ?? '') };
  }

  async put(state: PauseState): Promise<void> {
    await this.#client.send(new PutCommand({ TableName: this.#table, Item: { ...KEY, ...state } }));
  }

  async delete(): Promise<void> {
    await this.#client.send(new DeleteCommand({ TableName: this.#table, Key: KEY }));
  }
}
