/**
 * Key schema of both tables, in one place: the local server creates tables from it and the
 * CDK stack declares them from it, so local and deployed tables cannot drift apart.
 */

/** A global secondary index: partition and sort attribute, both strings. */
export interface IndexSchema {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** A table: string `PK`/`SK` keys, a TTL attribute, and its indexes. */
export interface TableSchema {
  readonly partitionKey: 'PK';
  readonly sortKey: 'SK';
  readonly ttlAttribute: 'expiresAt';
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
