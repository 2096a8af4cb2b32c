/**
 * Managed API keys: their format, their hash, and the check that turns a presented key into a
 * role. A key is `cwk_<env>_<43 base64url chars>` (32 random bytes; `env` is `live` when
 * `APP_ENV=production`, else `test`), shown once at creation. Only its SHA-256 digest and a short
 * display prefix are stored. A key is found by its digest (a point read, strongly consistent); an
 * accepted key is cached for `KEY_CACHE_SECONDS` per process, and revoking a key in a process drops
 * it from that process's cache at once, so a revoked key stops working everywhere within that time.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from './roles.js';
import type { Page, PagePosition } from './page.js';

/** One managed key as stored (times in epoch milliseconds). */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** Hex SHA-256 of the key. */
  readonly hash: string;
  /** The first characters of the key, to tell keys apart in lists (`cwk_test_AbC123`). */
  readonly prefix: string;
  /** Who created it (`admin`, `key:<id>`). */
  readonly createdBy: string;
  readonly createdAt: number;
  readonly expiresAt?: number;
  readonly revokedAt?: number;
}

/** Storage of managed keys. */
export interface ApiKeyStore {
  /** Stores a new key; throws `KeyLimitError` when `maxActive` keys are already active. */
  create(record: ApiKeyRecord, maxActive: number): Promise<void>;
  /** The key stored under `hash` (strongly consistent), or undefined. */
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** A page of keys, newest first; undefined for a position that does not belong to this list. */
  list(input: { limit: number; from?: PagePosition }): Promise<Page<ApiKeyRecord> | undefined>;
  /** Revokes key `id` at `now`; `changed` is false when it was already revoked; undefined when unknown. */
  revoke(id: string, now: number): Promise<{ record: ApiKeyRecord; changed: boolean } | undefined>;
}

/** How long an accepted key is trusted without a read; the promised revocation delay across instances. */
export const KEY_CACHE_SECONDS = 5;
/** How many accepted keys one process remembers. */
export const KEY_CACHE_ENTRIES = 1000;

const RANDOM_BYTES = 32;
const KEY_FORMAT = /^cwk_(live|test)_[A-Za-z0-9_-]{43}$/;
/** `cwk_test_` plus this many characters of the random part are kept to tell keys apart in lists. */
const DISPLAY_CHARS = 6;

/** The environment tag of keys made by a deployment. */
export const keyEnvironment = (production: boolean): 'live' | 'test' => (production ? 'live' : 'test');

/** A fresh key for `env`, with its digest and display prefix. */
export function generateApiKey(env: 'live' | 'test'): { key: string; hash: string; prefix: string } {
  const key = `cwk_${env}_${randomBytes(RANDOM_BYTES).toString('base64url')}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, `cwk_${env}_`.length + DISPLAY_CHARS) };
}

/** True when `credential` has the shape of a managed key (and so is looked up, not compared). */
export const isManagedKey = (credential: string): boolean => KEY_FORMAT.test(credential);

/** The hex SHA-256 digest a key is stored and found under. */
export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** Whether a stored key may be used at `now`, and if not, why. */
export function keyStatus(record: ApiKeyRecord, now: number): 'active' | 'revoked' | 'expired' {
  if (record.revokedAt !== undefined) return 'revoked';
  if (record.expiresAt !== undefined && record.expiresAt <= now) return 'expired';
  return 'active';
}

/** What checking a managed key found. */
export type KeyCheck =
  | { readonly outcome: 'accepted'; readonly id: string; readonly role: Role }
  | { readonly outcome: 'revoked' | 'expired'; readonly id: string }
  | { readonly outcome: 'unknown' };

export interface ApiKeyVerifierOptions {
  readonly store: ApiKeyStore;
  readonly clock: () => number;
  /** @default KEY_CACHE_SECONDS */
  readonly cacheSeconds?: number;
  /** @default KEY_CACHE_ENTRIES */
  readonly cacheEntries?: number;
}

/**
 * Checks managed keys against the store with a short, bounded positive cache. Unknown, revoked
 * and expired keys are never cached (each costs one read, which the failed-authentication
 * lockout bounds), and expiry is compared on every use, cached or not.
 */
export class ApiKeyVerifier {
  readonly #store: ApiKeyStore;
  readonly #clock: () => number;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #cache = new Map<string, { record: ApiKeyRecord; cachedAt: number }>();

  constructor(options: ApiKeyVerifierOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#ttlMs = (options.cacheSeconds ?? KEY_CACHE_SECONDS) * 1000;
    this.#maxEntries = options.cacheEntries ?? KEY_CACHE_ENTRIES;
  }

  /** Looks `key` up by its digest; throws `ServiceUnavailableError` when the store cannot answer. */
  async check(key: string): Promise<KeyCheck> {
    const hash = hashApiKey(key);
    const now = this.#clock();
    const cached = this.#cache.get(hash);
    let record: ApiKeyRecord | undefined;
    if (cached && now - cached.cachedAt < this.#ttlMs) {
      record = cached.record;
    } else {
      this.#cache.delete(hash);
      record = await this.#store.findByHash(hash);
    }
    if (!record) return { outcome: 'unknown' };
    const status = keyStatus(record, now);
    if (status !== 'active') {
      this.#cache.delete(hash);
      return { outcome: status, id: record.id };
    }
    if (!this.#cache.has(hash)) this.#remember(hash, record, now);
    return { outcome: 'accepted', id: record.id, role: record.role };
  }

  /** Revokes the key `id`; this process stops accepting it at once. Returns the record, or undefined when unknown. */
  async revoke(id: string): Promise<{ record: ApiKeyRecord; changed: boolean } | undefined> {
    const result = await this.#store.revoke(id, this.#clock());
    if (result) this.#cache.delete(result.record.hash);
    return result;
  }

  #remember(hash: string, record: ApiKeyRecord, now: number): void {
    if (this.#cache.size >= this.#maxEntries) {
      // Maps iterate in insertion order: the first entry is the oldest.
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(hash, { record, cachedAt: now });
  }
}

/** How many managed keys may be active (not revoked) at once. */
export const MAX_ACTIVE_KEYS = 50;

/** A key id: creation time (base 36, so ids sort by age) and 64 random bits. */
export const newKeyId = (now: number): string =>
  `k${now.toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;

/** A key as the admin API shows it: never the key, never its digest. */
export interface KeyView {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly prefix: string;
  readonly status: 'active' | 'revoked' | 'expired';
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

/** The admin view of `record` at `now`. */
export function viewOf(record: ApiKeyRecord, now: number): KeyView {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    prefix: record.prefix,
    status: keyStatus(record, now),
    createdBy: record.createdBy,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: iso(record.expiresAt),
    revokedAt: iso(record.revokedAt),
  };
}
