/**
 * Key schema of the tables, in one place: the local server creates tables from it and the
 * CDK stack declares them from it, so local and deployed tables cannot drift apart.
 */

/** A global secondary index: partition and sort attribute, both strings. */
export interface IndexSchema {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** A table: a string partition key, an optional string sort key, a TTL attribute, and its indexes. */
export interface TableSchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly ttlAttribute: string;
  readonly indexes: readonly IndexSchema[];
}

/** Conversations: `SESSION#<id>` with `META` and `MSG#<ts>#<seq>` items. */
export const CONVERSATIONS_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  ttlAttribute: 'expiresAt',
  indexes: [
    { name: 'byDay', partitionKey: 'listDay', sortKey: 'listKey' },
    { name: 'byUser', partitionKey: 'ownerKey', sortKey: 'listKey' },
  ],
} as const satisfies TableSchema;

/** Security state: revocations, rate-limit counters and audit events. */
export const SECURITY_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  ttlAttribute: 'expiresAt',
  indexes: [],
} as const satisfies TableSchema;

/** Powertools Idempotency records, in the layout its DynamoDB persistence layer expects by default. */
export const IDEMPOTENCY_SCHEMA = {
  partitionKey: 'id',
  ttlAttribute: 'expiration',
  indexes: [],
} as const satisfies TableSchema;
