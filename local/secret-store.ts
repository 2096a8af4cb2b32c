/**
 * The local secret store: `.local/secrets.json` (mode 0600), shaped like Secrets Manager
 * (versions with staging labels and creation dates) so the rotation code can run against it.
 * Created with random values on first start.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
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
    value: z.string().min(1),
    createdAt: z.iso.datetime(),
    stages: z.array(z.string()),
  })
  .strict();

const fileSchema = z
  .object({
    version: z.literal(1),
    secrets: z.record(z.enum(SECRET_NAMES), z.object({ versions: z.array(versionSchema) }).strict()),
  })
  .strict();

type SecretFile = z.infer<typeof fileSchema>;
type StoredVersion = z.infer<typeof versionSchema>;

/** The path of the store inside `LOCAL_DATA_DIR`. */
export const secretFilePath = (dataDir: string): string => join(dataDir, 'secrets.json');

/** A `SecretSource` over the JSON file; every load reads the file, so rotations are seen at the next cache refresh. */
export class FileSecretStore implements SecretSource {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** Creates the file with fresh random values when it does not exist; tightens its mode when it does. Returns true when created. */
  async ensure(now: number = Date.now()): Promise<boolean> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const initial: SecretFile = {
      version: 1,
      secrets: Object.fromEntries(
        SECRET_NAMES.map((name) => [
          name,
          {
            versions: [
              {
                versionId: randomUUID(),
                value: generateSecret(),
                createdAt: new Date(now).toISOString(),
                stages: ['AWSCURRENT'],
              },
            ],
          },
        ]),
      ) as SecretFile['secrets'],
    };
    try {
      await writeFile(this.path, `${JSON.stringify(initial, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (((await stat(this.path)).mode & 0o077) !== 0) await chmod(this.path, 0o600);
    return false;
  }

  async #read(): Promise<SecretFile> {
    const parsed = fileSchema.safeParse(JSON.parse(await readFile(this.path, 'utf8')));
    if (!parsed.success)
      throw new Error(`${this.path} is not a valid secret store: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  }

  async load(): Promise<SecretSnapshot> {
    const file = await this.#read();
    const entries = {} as Record<SecretName, SecretEntry>;
    for (const name of SECRET_NAMES) {
      const versions = file.secrets[name]?.versions ?? [];
      const current = versions.find((v) => v.stages.includes('AWSCURRENT'));
      if (!current) throw new Error(`${this.path} has no AWSCURRENT version of ${name}`);
      const previous = versions.find((v) => v.stages.includes('AWSPREVIOUS'));
      entries[name] = { current: toVersion(current), ...(previous ? { previous: toVersion(previous) } : {}) };
    }
    return entries;
  }
}

const toVersion = (v: StoredVersion) => ({
  versionId: v.versionId,
  value: v.value,
  createdAt: Date.parse(v.createdAt),
});
