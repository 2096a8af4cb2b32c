/**
 * Secrets Manager adapters: `SecretsManagerSource` loads every credential (one
 * `BatchGetSecretValue` for AWSCURRENT and, in parallel, `GetSecretValue` with
 * `VersionStage=AWSPREVIOUS` per secret: one round trip deep) for `CachingSecretProvider`;
 * `SecretsManagerRotationStore` gives the rotation steps what they need. Clients are injectable.
 */
import type * as SecretsManagerSdk from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient, SecretValueEntry } from '@aws-sdk/client-secrets-manager';
import { loadHttpHandler } from '../http-handler.js';
import type { RotatableStore } from '../rotation.js';
import {
  SECRET_NAMES,
  type SecretEntry,
  type SecretName,
  type SecretSnapshot,
  type SecretSource,
  type SecretVersion,
} from '../secrets.js';

interface Connection {
  readonly sdk: typeof SecretsManagerSdk;
  readonly client: SecretsManagerClient;
}

/**
 * The SDK, imported on first use (a cold start that is served from the secret cache of the
 * environment never loads it), and `client` or a new one (three attempts, the shared agents).
 */
function lazyConnection(client?: SecretsManagerClient): () => Promise<Connection> {
  let connection: Promise<Connection> | undefined;
  return () =>
    (connection ??= Promise.all([
      import('@aws-sdk/client-secrets-manager'),
      client === undefined ? loadHttpHandler({}) : undefined,
    ])
      .then(([sdk, requestHandler]) => ({
        sdk,
        client: client ?? new sdk.SecretsManagerClient({ maxAttempts: 3, requestHandler }),
      }))
      // A failed load is not kept: the next call loads again.
      .catch((error: unknown) => {
        connection = undefined;
        throw error;
      }));
}

const isNotFound = (error: unknown) => error instanceof Error && error.name === 'ResourceNotFoundException';

/** The Secrets Manager id of each credential: `<prefix><name>`. */
export const secretIdsFor = (prefix: string): Record<SecretName, string> =>
  Object.fromEntries(SECRET_NAMES.map((name) => [name, `${prefix}${name}`])) as Record<SecretName, string>;

function toVersion(
  entry: { VersionId?: string; SecretString?: string; CreatedDate?: Date },
  id: string,
): SecretVersion {
  if (entry.SecretString === undefined || entry.VersionId === undefined)
    throw new Error(`Secret ${id} has no string value`);
  return { versionId: entry.VersionId, value: entry.SecretString, createdAt: entry.CreatedDate?.getTime() ?? 0 };
}

export interface SecretsManagerSourceOptions {
  /** The secret id (name or ARN) of each credential. */
  readonly secretIds: Readonly<Record<SecretName, string>>;
  /** @default a client for the function's region */
  readonly client?: SecretsManagerClient;
}

/** A `SecretSource` over Secrets Manager. */
export class SecretsManagerSource implements SecretSource {
  readonly #connect: () => Promise<Connection>;
  readonly #ids: Readonly<Record<SecretName, string>>;

  constructor(options: SecretsManagerSourceOptions) {
    this.#connect = lazyConnection(options.client);
    this.#ids = options.secretIds;
  }

  async load(): Promise<SecretSnapshot> {
    const ids = SECRET_NAMES.map((name) => this.#ids[name]);
    const { sdk, client } = await this.#connect();
    const [batch, previous] = await Promise.all([
      client.send(new sdk.BatchGetSecretValueCommand({ SecretIdList: ids })),
      Promise.all(
        ids.map((id) =>
          client
            .send(new sdk.GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSPREVIOUS' }))
            .catch((error: unknown) => {
              if (isNotFound(error)) return undefined;
              throw error;
            }),
        ),
      ),
    ]);
    if ((batch.Errors ?? []).length > 0) {
      throw new Error(
        `BatchGetSecretValue failed for ${(batch.Errors ?? []).map((e) => `${e.SecretId ?? '?'} (${e.ErrorCode ?? '?'})`).join(', ')}`,
      );
    }
    const values = batch.SecretValues ?? [];
    const entries = {} as Record<SecretName, SecretEntry>;
    SECRET_NAMES.forEach((name, index) => {
      const id = this.#ids[name];
      const current = values.find((v: SecretValueEntry) => v.ARN === id || v.Name === id);
      if (!current) throw new Error(`BatchGetSecretValue returned no value for ${id}`);
      const before = previous[index];
      entries[name] = { current: toVersion(current, id), ...(before ? { previous: toVersion(before, id) } : {}) };
    });
    return entries;
  }
}

/** The rotation steps' view of Secrets Manager. */
export class SecretsManagerRotationStore implements RotatableStore {
  readonly #connect: () => Promise<Connection>;

  /** `client`: @default a client for the function's region */
  constructor(client?: SecretsManagerClient) {
    this.#connect = lazyConnection(client);
  }

  async describe(secretId: string) {
    const { sdk, client } = await this.#connect();
    const result = await client.send(new sdk.DescribeSecretCommand({ SecretId: secretId }));
    return { rotationEnabled: result.RotationEnabled === true, versions: result.VersionIdsToStages ?? {} };
  }

  async getValue(secretId: string, select: { versionId?: string; stage?: string }): Promise<string | undefined> {
    const { sdk, client } = await this.#connect();
    try {
      const result = await client.send(
        new sdk.GetSecretValueCommand({ SecretId: secretId, VersionId: select.versionId, VersionStage: select.stage }),
      );
      return result.SecretString;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async putPending(secretId: string, versionId: string, value: string): Promise<void> {
    const { sdk, client } = await this.#connect();
    await client.send(
      new sdk.PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: versionId,
        SecretString: value,
        VersionStages: ['AWSPENDING'],
      }),
    );
  }

  async promote(secretId: string, toVersionId: string, fromVersionId: string): Promise<void> {
    const { sdk, client } = await this.#connect();
    await client.send(
      new sdk.UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: toVersionId,
        RemoveFromVersionId: fromVersionId,
      }),
    );
    // Secrets Manager moves only the label named: AWSPENDING stays on the new version until removed.
    await client.send(
      new sdk.UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: toVersionId,
      }),
    );
  }
}

/** A secret's current string value by name, as the model key getter reads it (Powertools Parameters' `get` shape). */
export interface SecretValueProvider {
  /** Resolves to `name`'s AWSCURRENT string; served from cache while younger than `maxAge` seconds. */
  get(name: string, options: { readonly maxAge: number }): Promise<unknown>;
}

/**
 * `SecretValueProvider` over Secrets Manager. Powertools Parameters' `SecretsProvider` does the
 * same, but imports the SDK at module load, which esbuild hoists to the top of every bundle that
 * contains it (a lazy `import()` of it does not defer loading); this one loads the SDK on first use.
 */
export class SecretsManagerValues implements SecretValueProvider {
  readonly #connect: () => Promise<Connection>;
  readonly #clock: () => number;
  readonly #cache = new Map<string, { value: string | undefined; at: number }>();

  constructor(options: { readonly client?: SecretsManagerClient; readonly clock?: () => number } = {}) {
    this.#connect = lazyConnection(options.client);
    this.#clock = options.clock ?? Date.now;
  }

  async get(name: string, options: { readonly maxAge: number }): Promise<string | undefined> {
    const cached = this.#cache.get(name);
    if (cached && this.#clock() - cached.at < options.maxAge * 1000) return cached.value;
    const { sdk, client } = await this.#connect();
    const result = await client.send(new sdk.GetSecretValueCommand({ SecretId: name }));
    this.#cache.set(name, { value: result.SecretString, at: this.#clock() });
    return result.SecretString;
  }
}
