/**
 * The local secret store: `.local/secrets.json` (mode 0600), shaped like Secrets Manager
 * (versions with staging labels and creation dates), so the same rotation steps run against it
 * (`npm run rotate`). Created with random values on first start. Writes are atomic (temporary
 * file, then rename), so a running server never reads half a file.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import type { RotatableStore } from '../lambdas/lib/rotation.js';
import { generateSecret } from '../lambdas/lib/secret-strength.js';
import {
  SECRET_NAMES,
  type SecretEntry,
  type SecretName,
  type SecretSnapshot,
  type SecretSource,
} from '../lambdas/lib/secrets.js';

const versionSchema = z
  .object({
    versionId: z.string().min(1),
    /** Absent only on the AWSPENDING stub of a rotation in progress. */
    value: z.string().min(1).optional(),
    createdAt: z.iso.datetime(),
    stages: z.array(z.enum(['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING'])),
  })
  .strict();

const fileSchema = z
  .object({
    version: z.literal(1),
    // Partial: a store written before a secret was added gets it on the next `ensure()`.
    secrets: z.partialRecord(z.enum(SECRET_NAMES), z.object({ versions: z.array(versionSchema) }).strict()),
  })
  .strict();

type SecretFile = z.infer<typeof fileSchema>;
type StoredVersion = z.infer<typeof versionSchema>;

/** Another process holds the store's rotation lock; the message says which secret and how to go on. */
export class RotationInProgressError extends Error {
  constructor(secret: string, holder: { pid: number; secret: string }, lockPath: string) {
    super(
      `Another rotation (${holder.secret}, pid ${holder.pid}) is running on this secret store; not rotating ${secret} ` +
        'now, since a second rotation at once would revoke the original value before its grace period ends. ' +
        `Run it again once the other has finished (lock: ${lockPath}).`,
    );
    this.name = 'RotationInProgressError';
  }
}

/** Whether process `pid` still runs (a lock left by a crashed run can be taken over). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The path of the store inside `LOCAL_DATA_DIR`. */
export const secretFilePath = (dataDir: string): string => join(dataDir, 'secrets.json');

/** True when `name` is one of the four secrets. */
export const isSecretName = (name: string | undefined): name is SecretName =>
  (SECRET_NAMES as readonly string[]).includes(name ?? '');

/** A `SecretSource` and `RotatableStore` over the JSON file; every load reads the file. */
export class FileSecretStore implements SecretSource, RotatableStore {
  readonly path: string;
  readonly #clock: () => number;

  constructor(path: string, clock: () => number = Date.now) {
    this.path = path;
    this.#clock = clock;
  }

  /**
   * Creates the file with fresh random values when it does not exist; when it does, tightens its
   * mode and adds any secret it lacks (one added by a later version). Returns true when created.
   */
  async ensure(): Promise<boolean> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const createdAt = new Date(this.#clock()).toISOString();
    const fresh = () => ({
      versions: [{ versionId: randomUUID(), value: generateSecret(), createdAt, stages: ['AWSCURRENT' as const] }],
    });
    const initial: SecretFile = {
      version: 1,
      secrets: Object.fromEntries(SECRET_NAMES.map((name) => [name, fresh()])),
    };
    try {
      await writeFile(this.path, `${JSON.stringify(initial, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (((await stat(this.path)).mode & 0o077) !== 0) await chmod(this.path, 0o600);
    // A corrupt file is left exactly as it is: `load` reports it, naming the file.
    const file = await this.#read().catch(() => undefined);
    const missing = SECRET_NAMES.filter((name) => file !== undefined && file.secrets[name] === undefined);
    if (file !== undefined && missing.length > 0) {
      for (const name of missing) file.secrets[name] = fresh();
      await this.#write(file);
    }
    return false;
  }

  async #read(): Promise<SecretFile> {
    const text = await readFile(this.path, 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // Not the parser's message: it quotes the file around the fault, which may be a secret.
      throw new Error(`${this.path} is not valid JSON; fix or delete it`);
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success)
      throw new Error(`${this.path} is not a valid secret store: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  }

  async #write(file: SecretFile): Promise<void> {
    const temporary = `${this.path}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.path);
  }

  async #versions(secretId: string): Promise<{ file: SecretFile; versions: StoredVersion[] }> {
    if (!isSecretName(secretId)) throw new Error(`Unknown secret ${secretId}; use one of ${SECRET_NAMES.join(', ')}`);
    const file = await this.#read();
    return { file, versions: (file.secrets[secretId] ??= { versions: [] }).versions };
  }

  async load(): Promise<SecretSnapshot> {
    const file = await this.#read();
    const entries = {} as Record<SecretName, SecretEntry>;
    for (const name of SECRET_NAMES) {
      const versions = file.secrets[name]?.versions ?? [];
      const current = versions.find((v) => v.stages.includes('AWSCURRENT'));
      if (current?.value === undefined) throw new Error(`${this.path} has no AWSCURRENT value of ${name}`);
      const previous = versions.find((v) => v.stages.includes('AWSPREVIOUS'));
      entries[name] = {
        current: toVersion(current, current.value),
        ...(previous?.value === undefined ? {} : { previous: toVersion(previous, previous.value) }),
      };
    }
    return entries;
  }

  async describe(secretId: string) {
    const { versions } = await this.#versions(secretId);
    return { rotationEnabled: true, versions: Object.fromEntries(versions.map((v) => [v.versionId, v.stages])) };
  }

  async getValue(secretId: string, select: { versionId?: string; stage?: string }): Promise<string | undefined> {
    const { versions } = await this.#versions(secretId);
    return versions.find(
      (v) =>
        (select.versionId === undefined || v.versionId === select.versionId) &&
        (select.stage === undefined || (v.stages as string[]).includes(select.stage)),
    )?.value;
  }

  async putPending(secretId: string, versionId: string, value: string): Promise<void> {
    const { file, versions } = await this.#versions(secretId);
    const stub = versions.find((v) => v.versionId === versionId);
    if (!stub) throw new Error(`No version ${versionId} of ${secretId}`);
    stub.value = value;
    stub.createdAt = new Date(this.#clock()).toISOString();
    await this.#write(file);
  }

  async promote(secretId: string, toVersionId: string, fromVersionId: string): Promise<void> {
    const { file, versions } = await this.#versions(secretId);
    const next = versions.filter((v) => v.versionId === toVersionId || v.versionId === fromVersionId);
    for (const v of next) {
      v.stages = v.versionId === toVersionId ? ['AWSCURRENT'] : ['AWSPREVIOUS'];
    }
    // Like Secrets Manager: only the current and the previous version keep a label; older ones are dropped.
    file.secrets[secretId as SecretName] = { versions: next };
    await this.#write(file);
  }

  /** The lock file that makes rotations of this store one at a time. */
  get lockPath(): string {
    return `${this.path}.rotation.lock`;
  }

  /**
   * Runs `work` holding the store's rotation lock: a file created exclusively next to the store,
   * holding the pid and the secret. One rotation at a time per store (so per secret, and no two
   * read-modify-write cycles of the file interleave); a lock whose process is gone is taken over.
   * Throws `RotationInProgressError` while another live process holds it.
   */
  async withRotationLock<T>(secret: SecretName, work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const handle = await open(this.lockPath, 'wx', 0o600);
        await handle.writeFile(JSON.stringify({ pid: process.pid, secret }));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = await readFile(this.lockPath, 'utf8')
          .then((text) => JSON.parse(text) as { pid: number; secret: string })
          .catch(() => ({ pid: 0, secret: 'unknown' }));
        // A half-written lock (pid 0) is only ever seen while its writer runs: never taken over.
        if (attempt > 0 || holder.pid === 0 || isRunning(holder.pid)) {
          throw new RotationInProgressError(secret, holder, this.lockPath);
        }
        await unlink(this.lockPath).catch(() => undefined);
      }
    }
    try {
      return await work();
    } finally {
      await unlink(this.lockPath).catch(() => undefined);
    }
  }

  /** What Secrets Manager's RotateSecret does first: stage a new, empty AWSPENDING version. */
  async startRotation(secretId: string): Promise<string> {
    const { file, versions } = await this.#versions(secretId);
    const token = randomUUID();
    const kept: StoredVersion[] = versions
      .map((v) => ({ ...v, stages: v.stages.filter((s) => s !== 'AWSPENDING') }))
      .filter((v) => v.stages.length > 0);
    kept.push({ versionId: token, createdAt: new Date(this.#clock()).toISOString(), stages: ['AWSPENDING'] });
    file.secrets[secretId as SecretName] = { versions: kept };
    await this.#write(file);
    return token;
  }
}

const toVersion = (v: StoredVersion, value: string) => ({
  versionId: v.versionId,
  value,
  createdAt: Date.parse(v.createdAt),
});
