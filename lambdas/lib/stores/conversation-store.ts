/**
 * Conversations in DynamoDB (design §8): `PK=SESSION#<id>` with a `META` item and one
 * `MSG#<ts>#<seq>` item per message. Every item carries the TTL attribute `expiresAt`; expiry
 * is also compared in code because TTL deletes lazily.
 */
import type { Usage } from '../budget.js';
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DocumentClient,
  isConditionFailure,
} from './document-client.js';
import { NotFoundError, ServiceUnavailableError } from '../errors.js';
import { DAY_MS, dayOf, daysBack, epochSeconds, iso } from '../time.js';
import type { Page, PagePosition } from '../page.js';
import { walkDays } from './pagination.js';
import { boundedKeyPart } from './key-part.js';
import { ownerValue } from '../conversation.js';
import { consistentReads } from './consistent-reads.js';
import { CONVERSATIONS_SCHEMA } from './table-schema.js';
import type {
  ChatMessage,
  ClaimInput,
  ClaimWithMessageInput,
  ConversationStore,
  ConversationSummary,
  MessageRole,
  StoredMessage,
} from '../conversation.js';

const { partitionKey: PK, sortKey: SK } = CONVERSATIONS_SCHEMA;
const META = 'META';
const MSG_PREFIX = 'MSG#';
/** The partition of a session (ids are validated short; bounded all the same). */
export const sessionKey = (sessionId: string): string => `SESSION#${boundedKeyPart(sessionId)}`;
/** The `byUser` index partition of a user's sessions. */
export const ownerIndexKey = (userId: string): string => `USER#${boundedKeyPart(userId)}`;
/** The index sort key of a session: creation time, then id. */
export const listIndexKey = (createdAt: string, sessionId: string): string =>
  `${createdAt}#${boundedKeyPart(sessionId)}`;
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const BATCH_SIZE = 25;
const MAX_BATCH_RETRIES = 5;

export interface DynamoConversationStoreOptions {
  readonly client: DocumentClient;
  readonly tableName: string;
  readonly ttlDays: number;
}

/** `ConversationStore` on the conversations table. */
export class DynamoConversationStore implements ConversationStore {
  readonly #client: DocumentClient;
  readonly #table: string;
  readonly #ttlDays: number;
  /** Whether the engine runs `TransactWriteItems` (DynamoDB and DynamoDB Local do; dynalite does not). */
  #transactions = true;

  constructor(options: DynamoConversationStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#ttlDays = options.ttlDays;
  }

  #expiresAt(now: number): number {
    return epochSeconds(now + this.#ttlDays * DAY_MS);
  }

  /** The `META` update that claims a session for `owner` and reserves `count` sequence numbers. */
  #claim(input: ClaimInput) {
    const { sessionId, owner, origin, count, now } = input;
    const createdAt = iso(now);
    return {
      TableName: this.#table,
      Key: { [PK]: sessionKey(sessionId), [SK]: META },
      UpdateExpression:
        'SET sessionId = :sid, createdAt = if_not_exists(createdAt, :now), updatedAt = :now, #owner = if_not_exists(#owner, :owner), ' +
        'origin = if_not_exists(origin, :origin), listDay = if_not_exists(listDay, :day), listKey = if_not_exists(listKey, :listKey), ' +
        (owner.kind === 'user' ? 'ownerKey = if_not_exists(ownerKey, :ownerKey), ' : '') +
        'expiresAt = :exp ADD messageCount :count',
      ConditionExpression: 'attribute_not_exists(#pk) OR #owner = :owner',
      ExpressionAttributeNames: { '#pk': PK, '#owner': 'owner' },
      ExpressionAttributeValues: {
        ':sid': sessionId,
        ':now': createdAt,
        ':owner': ownerValue(owner),
        ':origin': origin ?? null,
        ':day': `DAY#${dayOf(now)}`,
        ':listKey': listIndexKey(createdAt, sessionId),
        ...(owner.kind === 'user' ? { ':ownerKey': ownerIndexKey(owner.userId) } : {}),
        ':exp': this.#expiresAt(now),
        ':count': count,
      } as Record<string, unknown>,
    };
  }

  /** A message's item and key (`MSG#<ts>#<seq>`), put only where no item is. */
  #messagePut(sessionId: string, seq: number, message: ChatMessage, now: number, turnKey: string | undefined) {
    const key = `${MSG_PREFIX}${pad(Date.parse(message.createdAt), 13)}#${pad(seq, 10)}`;
    return {
      key,
      put: {
        TableName: this.#table,
        Item: {
          [PK]: sessionKey(sessionId),
          [SK]: key,
          role: message.role,
          content: message.content,
          createdAt: message.createdAt,
          partial: message.partial,
          usage: message.usage,
          blocked: message.blocked,
          turnKey,
          expiresAt: this.#expiresAt(now),
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      },
    };
  }

  async beginTurn(input: ClaimInput): Promise<number> {
    try {
      const result = await this.#client.send(new UpdateCommand({ ...this.#claim(input), ReturnValues: 'UPDATED_NEW' }));
      const total = Number(result.Attributes?.messageCount);
      return total - input.count + 1;
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new NotFoundError('No such session.', { cause: error });
      }
      throw error;
    }
  }

  async claimWithMessage(input: ClaimWithMessageInput): Promise<{ seq: number; key?: string }> {
    const { seen, owner } = input;
    if (seen !== undefined && seen.userId !== (owner.kind === 'user' ? owner.userId : null)) {
      throw new NotFoundError('No such session.');
    }
    if (!this.#transactions) return { seq: await this.beginTurn(input) };
    const seq = (seen?.messageCount ?? 0) + 1;
    const { key, put } = this.#messagePut(input.sessionId, seq, input.message, input.now, undefined);
    const claim = this.#claim(input);
    // Only the META item as it was read: a new session, or the owner's at the count seen.
    const update = {
      ...claim,
      ConditionExpression:
        seen === undefined
          ? 'attribute_not_exists(#pk)'
          : 'attribute_exists(#pk) AND #owner = :owner AND messageCount = :seen',
      ExpressionAttributeValues: {
        ...claim.ExpressionAttributeValues,
        ...(seen === undefined ? {} : { ':seen': seen.messageCount }),
      },
    };
    try {
      await this.#client.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, { Put: put }] }));
      return { seq, key };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      // An engine without transactions (dynalite): claim, then store, from now on.
      if (name === 'UnknownOperationException') this.#transactions = false;
      // Or the session changed since it was read (another turn, expiry): claim, then store.
      else if (name !== 'TransactionCanceledException') throw error;
      return { seq: await this.beginTurn(input) };
    }
  }

  async appendMessage(
    sessionId: string,
    seq: number,
    message: ChatMessage,
    now: number,
    turnKey?: string,
  ): Promise<string> {
    const { key, put } = this.#messagePut(sessionId, seq, message, now, turnKey);
    await this.#client.send(new PutCommand(put));
    return key;
  }

  async getMessage(sessionId: string, key: string, now: number): Promise<ChatMessage | undefined> {
    if (!key.startsWith(MSG_PREFIX)) return undefined;
    const result = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: { [PK]: sessionKey(sessionId), [SK]: key }, ConsistentRead: true }),
    );
    const item = result.Item;
    return item && Number(item.expiresAt) > epochSeconds(now) ? toMessage(item) : undefined;
  }

  async releaseTurn(sessionId: string, count: number): Promise<void> {
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { [PK]: sessionKey(sessionId), [SK]: META },
        UpdateExpression: 'ADD messageCount :neg',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
        ExpressionAttributeValues: { ':neg': -count },
      }),
    );
  }

  /** One strongly consistent page of a session's unexpired messages, in either direction. */
  async #queryMessages(
    sessionId: string,
    options: { limit: number; now: number; newestFirst?: boolean; startKey?: PagePosition['key'] },
  ) {
    return this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :msg)',
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: {
          ':pk': sessionKey(sessionId),
          ':msg': MSG_PREFIX,
          ':now': epochSeconds(options.now),
        },
        ScanIndexForward: !options.newestFirst,
        Limit: options.limit,
        ExclusiveStartKey: options.startKey,
        ConsistentRead: true,
      }),
    );
  }

  async recentMessages(sessionId: string, limit: number, now: number): Promise<StoredMessage[]> {
    const result = await this.#queryMessages(sessionId, { limit, now, newestFirst: true });
    return (result.Items ?? [])
      .map((item) => ({
        ...toMessage(item),
        key: String(item[SK]),
        ...(typeof item.turnKey === 'string' ? { turnKey: item.turnKey } : {}),
      }))
      .reverse();
  }

  async get(sessionId: string, now: number): Promise<ConversationSummary | undefined> {
    // Joins the request's other reads in one BatchGetItem (a chat turn's first wave).
    const item = await consistentReads(this.#client).get(this.#table, { [PK]: sessionKey(sessionId), [SK]: META });
    return item && Number(item.expiresAt) > epochSeconds(now) ? toSummary(item) : undefined;
  }

  async messages(
    sessionId: string,
    limit: number,
    from: PagePosition | undefined,
    now: number,
  ): Promise<Page<ChatMessage>> {
    const result = await this.#queryMessages(sessionId, { limit, now, startKey: from?.key });
    const items = (result.Items ?? []).map(toMessage);
    return result.LastEvaluatedKey
      ? { items, next: { key: result.LastEvaluatedKey as PagePosition['key'] } }
      : { items };
  }

  async list(
    input: { limit: number; userId?: string; from?: PagePosition },
    now: number,
  ): Promise<Page<ConversationSummary> | undefined> {
    const query = async (
      index: 'byDay' | 'byUser',
      partition: string,
      limit: number,
      startKey: PagePosition['key'],
    ) => {
      const [byDay, byUser] = CONVERSATIONS_SCHEMA.indexes;
      const schema = index === 'byDay' ? byDay : byUser;
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: schema.name,
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: 'expiresAt > :now',
          ExpressionAttributeNames: { '#pk': schema.partitionKey },
          ExpressionAttributeValues: { ':pk': partition, ':now': epochSeconds(now) },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: startKey,
        }),
      );
      return { items: (result.Items ?? []).map(toSummary), lastKey: result.LastEvaluatedKey as PagePosition['key'] };
    };
    if (input.userId !== undefined) {
      if (input.from?.day !== undefined) return undefined;
      const page = await query('byUser', ownerIndexKey(input.userId), input.limit, input.from?.key);
      return page.lastKey ? { items: page.items, next: { key: page.lastKey } } : { items: page.items };
    }
    const days = daysBack(now, this.#ttlDays + 1);
    return walkDays(days, input.limit, input.from, (day, limit, key) => query('byDay', `DAY#${day}`, limit, key));
  }

  async delete(sessionId: string): Promise<number> {
    let deleted = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': sessionKey(sessionId) },
          ProjectionExpression: '#pk, #sk',
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      const keys = page.Items ?? [];
      for (let i = 0; i < keys.length; i += BATCH_SIZE) {
        await this.#deleteBatch(keys.slice(i, i + BATCH_SIZE));
      }
      deleted += keys.length;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return deleted;
  }

  async #deleteBatch(keys: Record<string, unknown>[]): Promise<void> {
    let pending = keys.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > MAX_BATCH_RETRIES) throw new ServiceUnavailableError();
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      const result = await this.#client.send(new BatchWriteCommand({ RequestItems: { [this.#table]: pending } }));
      pending = (result.UnprocessedItems?.[this.#table] ?? []) as typeof pending;
    }
  }
}

function toMessage(item: Record<string, unknown>): ChatMessage {
  return {
    role: item.role as MessageRole,
    content: String(item.content),
    createdAt: String(item.createdAt),
    ...(item.partial === true ? { partial: true as const } : {}),
    ...usageOf(item.usage),
    ...(item.blocked === true ? { blocked: true as const } : {}),
  };
}

/** The stored usage of an answer, when it has a well-formed one. */
function usageOf(value: unknown): { usage?: Usage } {
  if (value === null || typeof value !== 'object') return {};
  const { inputTokens, outputTokens, estimated } = value as Record<string, unknown>;
  if (typeof inputTokens !== 'number' || typeof outputTokens !== 'number') return {};
  return { usage: { inputTokens, outputTokens, estimated: estimated === true } };
}

function toSummary(item: Record<string, unknown>): ConversationSummary {
  const owner = String(item.owner);
  return {
    sessionId: String(item.sessionId),
    userId: owner.startsWith('user:') ? owner.slice('user:'.length) : null,
    origin: typeof item.origin === 'string' ? item.origin : null,
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    messageCount: Number(item.messageCount),
  };
}
