/**
 * Secrets behind one interface. A source loads every credential (current version and, during
 * rotation, the previous one); `CachingSecretProvider` caches the snapshot for
 * `SECRET_CACHE_TTL_SECONDS`, serves a stale copy for at most `SECRET_MAX_STALE_SECONDS` when a
 * refresh fails, and then fails closed. Grace is applied in one place: `acceptedValues`.
 */
import { ConfigurationError, ServiceUnavailableError } from './errors.js';
import { checkSecrets } from './secret-strength.js';

/** The credentials this service holds, by their Secrets Manager names. */
export const SECRET_NAMES = [
  'widget-api-key',
  'admin-api-key',
  'server-api-key',
  'widget-signing-secret',
  'webhook-signing-secret',
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/** The environment variable that overrides each secret locally (with an optional `_PREVIOUS`). */
export const SECRET_ENV = {
  'widget-api-key': 'WIDGET_API_KEY',
  'admin-api-key': 'ADMIN_API_KEY',
  'server-api-key': 'SERVER_API_KEY',
  'widget-signing-secret': 'WIDGET_SIGNING_SECRET',
  'webhook-signing-secret': 'WEBHOOK_SIGNING_SECRET',
} as const satisfies Readonly<Record<SecretName, string>>;

/** One version of a secret. `createdAt` is epoch milliseconds. */
export interface SecretVersion {
  readonly versionId: string;
  readonly value: string;
  readonly createdAt: number;
}

/** The current version of a secret and, while rotating, the one it replaced. */
export interface SecretEntry {
  readonly current: SecretVersion;
  readonly previous?: SecretVersion;
}

export type SecretSnapshot = Readonly<Record<SecretName, SecretEntry>>;

/** Where secrets come from (the local file store, the environment, Secrets Manager). */
export interface SecretSource {
  /** Loads every secret; throws when the backing store cannot answer. */
  load(): Promise<SecretSnapshot>;
}

/** What handlers use: a snapshot that is fresh enough, or a `ServiceUnavailableError`. */
export interface SecretProvider {
  get(): Promise<SecretSnapshot>;
}

/** Values of `entry` accepted at `nowMs`: the current one, plus the previous one during the grace period. */
export function acceptedValues(entry: SecretEntry, nowMs: number, graceSeconds: number): string[] {
  const values = [entry.current.value];
  if (entry.previous && nowMs < entry.current.createdAt + graceSeconds * 1000) values.push(entry.previous.value);
  return values;
}

/** Every value in a snapshot that must pass the strength rules, labelled by secret and stage. */
export function labelledValues(snapshot: SecretSnapshot): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SECRET_NAMES) {
    out[`${name} (current)`] = snapshot[name].current.value;
    // The previous value is accepted during the grace period, so it must be strong too.
    const previous = snapshot[name].previous;
    if (previous) out[`${name} (previous)`] = previous.value;
  }
  return out;
}

export interface CachingSecretProviderOptions {
  readonly source: SecretSource;
  readonly ttlSeconds: number;
  readonly maxStaleSeconds: number;
  /** Production refuses weak secrets; development only warns. */
  readonly production: boolean;
  readonly clock?: () => number;
  /** Called once per refresh failure while a stale copy is served or the provider fails closed. */
  readonly onRefreshFailed?: (error: unknown, serving: 'stale' | 'none') => void;
  /** Called with the problems of weak secrets (development only; production throws). */
  readonly onWeakSecrets?: (problems: readonly string[]) => void;
}

/**
 * Caches the snapshot of a `SecretSource`: zero source calls while fresh, one shared refresh
 * when it expires, stale service up to `maxStaleSeconds`, then 503.
 */
export class CachingSecretProvider implements SecretProvider {
  readonly #options: CachingSecretProviderOptions;
  readonly #clock: () => number;
  #cached: { snapshot: SecretSnapshot; loadedAt: number } | undefined;
  #inflight: Promise<SecretSnapshot> | undefined;
  #warnedFor = '';

  constructor(options: CachingSecretProviderOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** Returns the cached snapshot, refreshing it when older than the TTL. */
  async get(): Promise<SecretSnapshot> {
    const now = this.#clock();
    const cached = this.#cached;
    if (cached && now - cached.loadedAt < this.#options.ttlSeconds * 1000) return cached.snapshot;
    this.#inflight ??= this.#refresh().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #refresh(): Promise<SecretSnapshot> {
    let snapshot: SecretSnapshot;
    try {
      snapshot = await this.#options.source.load();
      this.#assertStrong(snapshot);
    } catch (error) {
      const cached = this.#cached;
      const usable =
        cached && this.#clock() - cached.loadedAt < (this.#options.ttlSeconds + this.#options.maxStaleSeconds) * 1000;
      this.#options.onRefreshFailed?.(error, usable ? 'stale' : 'none');
      if (usable) return cached.snapshot;
      if (error instanceof ConfigurationError) throw error;
      throw new ServiceUnavailableError({ cause: error });
    }
    this.#cached = { snapshot, loadedAt: this.#clock() };
    return snapshot;
  }

  #assertStrong(snapshot: SecretSnapshot): void {
    const problems = checkSecrets(labelledValues(snapshot));
    if (problems.length === 0) return;
    if (this.#options.production) throw new ConfigurationError(problems);
    const fingerprint = SECRET_NAMES.map((n) => snapshot[n].current.versionId).join('|');
    if (fingerprint !== this.#warnedFor) {
      this.#warnedFor = fingerprint;
      this.#options.onWeakSecrets?.(problems);
    }
  }
}
