/**
 * Managed API keys in the security table (design §8, extended):
 *
 * - `PK=SK=APIKEY#<sha256 hex of the key>`: the item a presented key is found by (one strongly
 *   consistent point read): id, role, expiry, revocation.
 * - `PK=KEYS`, `SK=KEY#<id>`: the listing item (name, role, display prefix, times, and the digest
 *   so a revocation by id reaches the lookup item). Ids sort by creation time, so a query of the
 *   partition lists keys newest first.
 * - `PK=SK=KEYS#ACTIVE`: the number of keys not revoked, kept by conditional `UpdateItem`s so that
 *   concurrent creations cannot pass the limit. An expired key keeps its slot until it is revoked.
 *
 * The key itself is never stored. Revoked keys keep their items for `retentionDays` (then TTL
 * removes them), so a revoked key is recognised (and audited) as revoked rather than unknown.
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DocumentClient,
  isConditionFailure,
} from './document-client.js';
import { KeyLimitError } from '../errors.js';
import { DAY_MS, epochSeconds } from '../time.js';
import type { Page, PagePosition } from '../page.js';
import type { ApiKeyRecord, ApiKeyStore } from '../api-keys.js';
import type { Role } from '../roles.js';
import { SECURITY_SCHEMA } from './table-schema.js';

const { partitionKey: PK, sortKey: SK } = SECURITY_SCHEMA;
const LIST_PARTITION = 'KEYS';
const COUNTER_KEY = 'KEYS#ACTIVE';

const lookupKey = (hash: string) => ({ [PK]: `APIKEY#${hash}`, [SK]: `APIKEY#${hash}` });
const listingKey = (id: string) => ({ [PK]: LIST_PARTITION, [SK]: `KEY#${id}` });
const counterKey = { [PK]: COUNTER_KEY, [SK]: COUNTER_KEY };

export interface DynamoApiKeyStoreOptions {
  readonly client: DocumentClient;
  readonly tableName: string;
  /** How long revoked and expired keys are kept (and recognised) before TTL removes them. */
  readonly retentionDays: number;
}

/** `ApiKeyStore` on the security table. */
export class DynamoApiKeyStore implements ApiKeyStore {
  readonly #client: DocumentClient;
  readonly #table: string;
  readonly #retentionMs: number;

  constructor(options: DynamoApiKeyStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#retentionMs = options.retentionDays * DAY_MS;
  }

  async create(record: ApiKeyRecord, maxActive: number): Promise<void> {
    await this.#client
      .send(
        new UpdateCommand({
          TableName: this.#table,
          Key: counterKey,
          UpdateExpression: 'ADD active :one',
          ConditionExpression: 'attribute_not_exists(active) OR active < :max',
          ExpressionAttributeValues: { ':one': 1, ':max': maxActive },
        }),
      )
      .catch((error: unknown) => {
        throw isConditionFailure(error) ? new KeyLimitError(maxActive, { cause: error }) : error;
      });
    const attributes = this.#attributes(record);
    try {
      await Promise.all([
        this.#client.send(
          new PutCommand({
            TableName: this.#table,
            Item: { ...lookupKey(record.hash), ...attributes },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        ),
        this.#client.send(
          new PutCommand({ TableName: this.#table, Item: { ...listingKey(record.id), ...attributes } }),
        ),
      ]);
    } catch (error) {
      // Give the slot back; should this fail too, the count is one too high, never too low.
      await this.#release().catch(() => undefined);
      throw error;
    }
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const result = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: lookupKey(hash), ConsistentRead: true }),
    );
    return result.Item ? toRecord(result.Item) : undefined;
  }

  async list(input: { limit: number; from?: PagePosition }): Promise<Page<ApiKeyRecord> | undefined> {
    const start = input.from?.key;
    if (input.from?.day !== undefined || (start !== undefined && start[PK] !== LIST_PARTITION)) return undefined;
    const result = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': PK },
        ExpressionAttributeValues: { ':pk': LIST_PARTITION },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: input.limit,
        ExclusiveStartKey: start,
      }),
    );
    const items = (result.Items ?? []).map(toRecord);
    const last = result.LastEvaluatedKey as PagePosition['key'];
    return last === undefined ? { items } : { items, next: { key: last } };
  }

  async revoke(id: string, now: number): Promise<{ record: ApiKeyRecord; changed: boolean } | undefined> {
    const found = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: listingKey(id), ConsistentRead: true }),
    );
    if (!found.Item) return undefined;
    const record = toRecord(found.Item);
    if (record.revokedAt !== undefined) return { record, changed: false };
    const values = { ':now': now, ':ttl': epochSeconds(now + this.#retentionMs) };
    // The lookup item first: once it carries `revokedAt` the key is refused, whatever happens next.
    let changed = true;
    await this.#client
      .send(
        new UpdateCommand({
          TableName: this.#table,
          Key: lookupKey(record.hash),
          UpdateExpression: 'SET revokedAt = :now, expiresAt = :ttl',
          ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(revokedAt)',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: values,
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
        changed = false;
      });
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: listingKey(id),
        UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :now), expiresAt = :ttl',
        ExpressionAttributeValues: values,
      }),
    );
    if (changed) await this.#release();
    return { record: { ...record, revokedAt: record.revokedAt ?? now }, changed };
  }

  /** Frees one active-key slot (never below zero). */
  async #release(): Promise<void> {
    await this.#client
      .send(
        new UpdateCommand({
          TableName: this.#table,
          Key: counterKey,
          UpdateExpression: 'ADD active :minus',
          ConditionExpression: 'active > :zero',
          ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  #attributes(record: ApiKeyRecord): Record<string, unknown> {
    return {
      id: record.id,
      name: record.name,
      role: record.role,
      hash: record.hash,
      prefix: record.prefix,
      createdBy: record.createdBy,
      createdAt: record.createdAt,
      // Not `expiresAt`, the table's TTL attribute: an expired key keeps its items (and its slot)
      // until it is revoked, so the active count never loses track of it.
      keyExpiresAt: record.expiresAt,
    };
  }
}

function toRecord(item: Record<string, unknown>): ApiKeyRecord {
  return {
    id: String(item.id),
    name: String(item.name),
    role: item.role as Role,
    hash: String(item.hash),
    prefix: String(item.prefix),
    createdBy: String(item.createdBy),
    createdAt: Number(item.createdAt),
    ...(item.keyExpiresAt === undefined ? {} : { expiresAt: Number(item.keyExpiresAt) }),
    ...(item.revokedAt === undefined ? {} : { revokedAt: Number(item.revokedAt) }),
  };
}
