/**
 * Secrets Manager adapters: `SecretsManagerSource` loads every credential (one
 * `BatchGetSecretValue` for AWSCURRENT and, in parallel, `GetSecretValue` with
 * `VersionStage=AWSPREVIOUS` per secret: one round trip deep) for `CachingSecretProvider`;
 * `SecretsManagerRotationStore` gives the rotation steps what they need. Clients are injectable.
 */
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type SecretValueEntry,
} from '@aws-sdk/client-secrets-manager';
import type { RotatableStore } from '../rotation.js';
import {
  SECRET_NAMES,
  type SecretEntry,
  type SecretName,
  type SecretSnapshot,
  type SecretSource,
  type SecretVersion,
} from '../secrets.js';

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
  readonly #client: SecretsManagerClient;
  readonly #ids: Readonly<Record<SecretName, string>>;

  constructor(options: SecretsManagerSourceOptions) {
    this.#client = options.client ?? new SecretsManagerClient({ maxAttempts: 3 });
    this.#ids = options.secretIds;
  }

  async load(): Promise<SecretSnapshot> {
    const ids = SECRET_NAMES.map((name) => this.#ids[name]);
    const [batch, previous] = await Promise.all([
      this.#client.send(new BatchGetSecretValueCommand({ SecretIdList: ids })),
      Promise.all(
        ids.map((id) =>
          this.#client
            .send(new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSPREVIOUS' }))
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
  readonly #client: SecretsManagerClient;

  constructor(client: SecretsManagerClient = new SecretsManagerClient({ maxAttempts: 3 })) {
    this.#client = client;
  }

  async describe(secretId: string) {
    const result = await this.#client.send(new DescribeSecretCommand({ SecretId: secretId }));
    return { rotationEnabled: result.RotationEnabled === true, versions: result.VersionIdsToStages ?? {} };
  }

  async getValue(secretId: string, select: { versionId?: string; stage?: string }): Promise<string | undefined> {
    try {
      const result = await this.#client.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionId: select.versionId, VersionStage: select.stage }),
      );
      return result.SecretString;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async putPending(secretId: string, versionId: string, value: string): Promise<void> {
    await this.#client.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: versionId,
        SecretString: value,
        VersionStages: ['AWSPENDING'],
      }),
    );
  }

  async promote(secretId: string, toVersionId: string, fromVersionId: string): Promise<void> {
    await this.#client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: toVersionId,
        RemoveFromVersionId: fromVersionId,
      }),
    );
    // Secrets Manager moves only the label named: AWSPENDING stays on the new version until removed.
    await this.#client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: toVersionId,
      }),
    );
  }
}
