/**
 * Audit events in the security table (design §8, §9): `PK=AUDIT#<day>`, `SK=<ts>#<id>`, with a
 * TTL of `AUDIT_RETENTION_DAYS`. Events triggered by unauthenticated traffic are aggregated
 * per type, client, route (and managed key, for `key.rejected`) and minute into one item with a `count`, so a flood adds at most one item per
 * minute per source instead of one per request.
 */
import { createHash, randomUUID } from 'node:crypto';
import { QueryCommand, PutCommand, UpdateCommand, type DocumentClient } from './document-client.js';
import { DAY_MS, dayOf, daysBack, epochSeconds, iso } from '../time.js';
import type { Page, PagePosition } from '../page.js';
import { walkDays } from './pagination.js';
import { SECURITY_SCHEMA } from './table-schema.js';
import { auditFacts, type AuditEvent, type AuditRecord, type AuditStore, type AuditType } from '../audit-events.js';

const { partitionKey: PK, sortKey: SK } = SECURITY_SCHEMA;
const MINUTE_MS = 60_000;

export interface DynamoAuditStoreOptions {
  readonly client: DocumentClient;
  readonly tableName: string;
  readonly retentionDays: number;
}

/** `AuditStore` on the security table. */
export class DynamoAuditStore implements AuditStore {
  readonly #client: DocumentClient;
  readonly #table: string;
  readonly #retentionDays: number;

  constructor(options: DynamoAuditStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#retentionDays = options.retentionDays;
  }

  #common(event: AuditEvent) {
    return {
      type: event.type,
      ...auditFacts(event),
      expiresAt: epochSeconds(event.at + this.#retentionDays * DAY_MS),
    };
  }

  async put(event: AuditEvent): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          [PK]: `AUDIT#${dayOf(event.at)}`,
          [SK]: `${iso(event.at)}#${randomUUID()}`,
          ...this.#common(event),
          at: iso(event.at),
          lastAt: iso(event.at),
          count: 1,
        },
      }),
    );
  }

  async aggregate(event: AuditEvent): Promise<void> {
    const minute = Math.floor(event.at / MINUTE_MS) * MINUTE_MS;
    // A rejected managed key is its own aggregate, so the trail tells which keys are being replayed.
    const keyId = event.detail?.keyId ?? '';
    const id = createHash('sha256')
      .update(`${event.type}\n${event.ip}\n${event.route}\n${keyId}`)
      .digest('hex')
      .slice(0, 32);
    const { detail, ...common } = this.#common(event);
    const names: Record<string, string> = { '#count': 'count', '#detail': 'detail' };
    const values: Record<string, unknown> = {
      ':one': 1,
      ':at': iso(minute),
      ':last': iso(event.at),
      ':detail': detail,
    };
    const sets = Object.entries(common).map(([key, value]) => {
      names[`#${key}`] = key;
      values[`:${key}`] = value;
      return `#${key} = if_not_exists(#${key}, :${key})`;
    });
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { [PK]: `AUDIT#${dayOf(minute)}`, [SK]: `${iso(minute)}#${id}` },
        UpdateExpression: `SET ${sets.join(', ')}, #at = if_not_exists(#at, :at), #detail = if_not_exists(#detail, :detail), lastAt = :last ADD #count :one`,
        ExpressionAttributeNames: { ...names, '#at': 'at' },
        ExpressionAttributeValues: values,
      }),
    );
  }

  async list(
    input: { limit: number; type?: AuditType; from?: PagePosition },
    now: number,
  ): Promise<Page<AuditRecord> | undefined> {
    const days = daysBack(now, this.#retentionDays + 1);
    return walkDays(days, input.limit, input.from, async (day, limit, startKey) => {
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: input.type === undefined ? 'expiresAt > :now' : 'expiresAt > :now AND #type = :type',
          ExpressionAttributeNames: { '#pk': PK, ...(input.type === undefined ? {} : { '#type': 'type' }) },
          ExpressionAttributeValues: {
            ':pk': `AUDIT#${day}`,
            ':now': epochSeconds(now),
            ...(input.type === undefined ? {} : { ':type': input.type }),
          },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: startKey,
        }),
      );
      return {
        items: (result.Items ?? []).map(toRecord),
        lastKey: result.LastEvaluatedKey as PagePosition['key'],
      };
    });
  }
}

function toRecord(item: Record<string, unknown>): AuditRecord {
  return {
    id: String(item[SK]),
    type: item.type as AuditType,
    actor: String(item.actor),
    ip: String(item.ip),
    method: String(item.method),
    route: String(item.route),
    requestId: String(item.requestId),
    at: String(item.at),
    lastAt: String(item.lastAt ?? item.at),
    count: Number(item.count ?? 1),
    detail: (item.detail ?? {}) as Record<string, string | number>,
  };
}
