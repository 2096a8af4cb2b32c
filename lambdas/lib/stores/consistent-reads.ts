/**
 * Strongly consistent point reads, coalesced (issue 20): every `get` issued in the same turn of
 * the event loop, on any table, goes out as one `BatchGetItem` (at most 100 keys per call). The checks a
 * chat request begins together in its first wave (the token's revocation by id and by user, the
 * failed-authentication lockout, the prompt-attack counters, the pause switch, the session's
 * `META` item) are then one call instead of six, and concurrent requests on one instance share calls too. Reads are never
 * cached: each `get` is answered by a read issued after it was called.
 *
 * Coalescing is `dataloader` (batching only, its cache off) scheduled on `setImmediate`, so reads
 * begun by successive middlewares (each awaited by Middy) still meet in one batch.
 */
import { BatchGetCommand, type DocumentClient } from './document-client.js';
import DataLoader from 'dataloader';
import { ServiceUnavailableError } from '../errors.js';

/** A table's primary key, e.g. `{ PK: 'REVOKED#x', SK: 'REVOKED#x' }`. */
export type ItemKey = Readonly<Record<string, string>>;
/** A stored item, or undefined when there is none. */
export type Item = Record<string, unknown> | undefined;

/** BatchGetItem takes at most 100 keys. */
const MAX_BATCH = 100;
/** Attempts for keys DynamoDB leaves unprocessed (throttling) before the read fails closed. */
const MAX_ATTEMPTS = 3;
const BACKOFF_MS = 10;

/** The batched reader of one client. */
export interface ConsistentReads {
  /**
   * The item of `table` at `key` (every attribute of the table's key schema), read strongly
   * consistent. Rejects with the client's error, or `ServiceUnavailableError` when DynamoDB kept
   * leaving the key unprocessed.
   */
  get(table: string, key: ItemKey): Promise<Item>;
}

interface Load {
  readonly table: string;
  readonly key: ItemKey;
}

const readers = new WeakMap<DocumentClient, ConsistentReads>();

/** The shared batched reader of `client` (one per client, so every store's reads share batches). */
export function consistentReads(client: DocumentClient): ConsistentReads {
  let reader = readers.get(client);
  if (!reader) {
    const loader = new DataLoader<Load, Item, Load>((loads) => readBatch(client, loads), {
      cache: false,
      maxBatchSize: MAX_BATCH,
      batchScheduleFn: (run) => setImmediate(run),
    });
    reader = { get: (table, key) => loader.load({ table, key }) };
    readers.set(client, reader);
  }
  return reader;
}

/** A key's identity within its table: its attribute names and values in a stable order. */
const idOf = (table: string, key: Readonly<Record<string, unknown>>, names: readonly string[]): string =>
  JSON.stringify([table, ...names.map((name) => [name, key[name]])]);

/** Reads `loads` (duplicates allowed: BatchGetItem refuses them, so each is asked once). */
async function readBatch(client: DocumentClient, loads: readonly Load[]): Promise<Array<Item | Error>> {
  const namesOf = new Map<string, string[]>();
  for (const { table, key } of loads) if (!namesOf.has(table)) namesOf.set(table, Object.keys(key).sort());
  const ids = loads.map(({ table, key }) => idOf(table, key, namesOf.get(table) ?? []));
  let pending: Record<string, { Keys: ItemKey[]; ConsistentRead: true }> = {};
  const seen = new Set<string>();
  loads.forEach(({ table, key }, i) => {
    if (seen.has(ids[i] as string)) return;
    seen.add(ids[i] as string);
    (pending[table] ??= { Keys: [], ConsistentRead: true }).Keys.push(key);
  });
  const found = new Map<string, Record<string, unknown>>();
  for (let attempt = 0; Object.keys(pending).length > 0 && attempt < MAX_ATTEMPTS; attempt += 1) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS * 2 ** attempt));
    const result = await client.send(new BatchGetCommand({ RequestItems: pending }));
    for (const [table, items] of Object.entries(result.Responses ?? {})) {
      for (const item of items) found.set(idOf(table, item, namesOf.get(table) ?? []), item);
    }
    pending = {};
    for (const [table, unprocessed] of Object.entries(result.UnprocessedKeys ?? {})) {
      if (unprocessed.Keys && unprocessed.Keys.length > 0) {
        pending[table] = { Keys: unprocessed.Keys as ItemKey[], ConsistentRead: true };
      }
    }
  }
  const unanswered = new Set(
    Object.entries(pending).flatMap(([table, { Keys }]) =>
      Keys.map((key) => idOf(table, key, namesOf.get(table) ?? [])),
    ),
  );
  return ids.map((id) => (unanswered.has(id) ? new ServiceUnavailableError() : found.get(id)));
}
