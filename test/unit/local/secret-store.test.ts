/**
 * The local secret store (design §5): `secrets.json` created with strong random values and mode
 * 0600, shaped like Secrets Manager, rotated by the same steps as in AWS (creation dates from the
 * injected clock, only AWSCURRENT and AWSPREVIOUS kept), and a clear error for a corrupt file.
 */
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROTATION_STEPS, rotateNow, runRotationStep } from '../../../lambdas/lib/rotation.js';
import { checkSecrets } from '../../../lambdas/lib/secret-strength.js';
import { SECRET_NAMES, type SecretName } from '../../../lambdas/lib/secrets.js';
import { FileSecretStore, RotationInProgressError, isSecretName, secretFilePath } from '../../../local/secret-store.js';
import { FakeClock, T0 } from '../../helpers/fake-runtime.js';

interface StoredVersion {
  versionId: string;
  value?: string;
  createdAt: string;
  stages: string[];
}
interface StoredFile {
  version: number;
  secrets: Record<string, { versions: StoredVersion[] }>;
}

const HOUR = 3_600_000;
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
const readStore = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as StoredFile;
const versionsOf = (file: StoredFile, name: SecretName) => file.secrets[name]!.versions;
const iso = (ms: number) => new Date(ms).toISOString();
/** Every 8-character piece of a secret value that appears in `message`. */
const fragmentsIn = (message: string, values: readonly string[]) =>
  values.flatMap((value) =>
    Array.from({ length: value.length - 7 }, (_, i) => value.slice(i, i + 8)).filter((piece) =>
      message.includes(piece),
    ),
  );

let root: string;
let savedUmask: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'chat-widget-secret-store-'));
  // A permissive, known umask: a file that is 0600 is so because the store made it so.
  savedUmask = process.umask(0o022);
});
afterAll(async () => {
  process.umask(savedUmask);
  await rm(root, { recursive: true, force: true });
});

/** A store in a fresh, not yet existing `.local` directory, on a fake clock. */
async function setup() {
  const dataDir = join(await mkdtemp(join(root, 'case-')), 'project', '.local');
  const clock = new FakeClock();
  const store = new FileSecretStore(secretFilePath(dataDir), clock.now);
  return { dataDir, clock, store, path: store.path };
}

describe('FileSecretStore.ensure', () => {
  it('It should create secrets.json with mode 0600 (in a 0700 directory) holding one distinct strong value per secret', async () => {
    // Prepare
    const { store, path } = await setup();

    // Act
    const created = await store.ensure();

    // Assess
    expect(created).toBe(true);
    expect(path.endsWith(join('.local', 'secrets.json'))).toBe(true);
    expect(await modeOf(path)).toBe(0o600);
    expect(await modeOf(dirname(path))).toBe(0o700);
    const file = await readStore(path);
    expect(file.version).toBe(1);
    expect(Object.keys(file.secrets).sort()).toEqual([...SECRET_NAMES].sort());
    const values: Record<string, string> = {};
    for (const name of SECRET_NAMES) {
      const versions = versionsOf(file, name);
      expect(versions).toHaveLength(1);
      const { versionId, value, ...rest } = versions[0]!;
      expect(rest).toEqual({ createdAt: iso(T0), stages: ['AWSCURRENT'] });
      expect(versionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(typeof value).toBe('string');
      expect(versions[0]!.value!.length).toBeGreaterThanOrEqual(48);
      values[name] = versions[0]!.value!;
    }
    expect(checkSecrets(values)).toEqual([]);
    expect(new Set(Object.values(values)).size).toBe(SECRET_NAMES.length);
  });

  it('It should add a secret the store lacks (one added by a later version), keeping every other value', async () => {
    // Prepare: a store written before webhook-signing-secret existed.
    const { store, path } = await setup();
    await store.ensure();
    const before = await readStore(path);
    delete before.secrets['webhook-signing-secret'];
    await writeFile(path, JSON.stringify(before));

    // Act
    const created = await store.ensure();
    const after = await readStore(path);

    // Assess
    expect(created).toBe(false);
    for (const name of SECRET_NAMES.filter((n) => n !== 'webhook-signing-secret')) {
      expect(after.secrets[name]).toEqual(before.secrets[name]);
    }
    expect(versionsOf(after, 'webhook-signing-secret')).toEqual([
      expect.objectContaining({ stages: ['AWSCURRENT'], value: expect.any(String) as unknown }),
    ]);
    await expect(store.load()).resolves.toHaveProperty('webhook-signing-secret.current.value');
  });

  it('It should create different values for different stores', async () => {
    // Prepare
    const a = await setup();
    const b = await setup();

    // Act
    await Promise.all([a.store.ensure(), b.store.ensure()]);

    // Assess
    const [first, second] = await Promise.all([a.store.load(), b.store.load()]);
    for (const name of SECRET_NAMES) expect(first[name].current.value).not.toBe(second[name].current.value);
  });

  it('It should leave an existing store untouched and report that it did not create it', async () => {
    // Prepare
    const { store, path, clock } = await setup();
    await store.ensure();
    const before = await readFile(path, 'utf8');
    clock.advance(HOUR);

    // Act
    const created = await store.ensure();

    // Assess
    expect(created).toBe(false);
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it.each([
    ['0644', 0o644],
    ['0640', 0o640],
    ['0604', 0o604],
    ['0660', 0o660],
    ['0666', 0o666],
  ])('It should tighten an existing store with mode %s to 0600 without changing it', async (_label, loose) => {
    // Prepare
    const { store, path } = await setup();
    await store.ensure();
    await chmod(path, loose);
    const before = await readFile(path, 'utf8');

    // Act
    const created = await store.ensure();

    // Assess
    expect(created).toBe(false);
    expect(await modeOf(path)).toBe(0o600);
    expect(await readFile(path, 'utf8')).toBe(before);
  });
});

describe('FileSecretStore.load', () => {
  it('It should load every current value with its version id and creation time, and no previous before a rotation', async () => {
    // Prepare
    const { store, path } = await setup();
    await store.ensure();
    const file = await readStore(path);

    // Act
    const snapshot = await store.load();

    // Assess
    for (const name of SECRET_NAMES) {
      const [stored] = versionsOf(file, name);
      expect(snapshot[name]).toEqual({
        current: { versionId: stored!.versionId, value: stored!.value, createdAt: T0 },
      });
    }
  });

  it('It should read the file on every load, so a rotation by another process is seen', async () => {
    // Prepare
    const { store, path, clock } = await setup();
    await store.ensure();
    const before = await store.load();
    const other = new FileSecretStore(path, clock.now);

    // Act
    await rotateNow(other, 'admin-api-key');
    const after = await store.load();

    // Assess
    expect(after['admin-api-key'].current.value).not.toBe(before['admin-api-key'].current.value);
    expect(after['admin-api-key'].previous?.value).toBe(before['admin-api-key'].current.value);
  });
});

describe('FileSecretStore rotation', () => {
  it('It should stage an empty AWSPENDING version on startRotation while load keeps serving the current value', async () => {
    // Prepare
    const { store, path, clock } = await setup();
    await store.ensure();
    const before = await store.load();
    clock.advance(HOUR);

    // Act
    const token = await store.startRotation('widget-api-key');

    // Assess
    const versions = versionsOf(await readStore(path), 'widget-api-key');
    expect(versions).toHaveLength(2);
    expect(versions.find((v) => v.versionId === token)).toEqual({
      versionId: token,
      createdAt: iso(T0 + HOUR),
      stages: ['AWSPENDING'],
    });
    expect(await store.describe('widget-api-key')).toEqual({
      rotationEnabled: true,
      versions: { [before['widget-api-key'].current.versionId]: ['AWSCURRENT'], [token]: ['AWSPENDING'] },
    });
    expect(await store.getValue('widget-api-key', { versionId: token, stage: 'AWSPENDING' })).toBeUndefined();
    expect(await store.load()).toEqual(before);
  });

  it('It should make the new value AWSCURRENT, created when createSecret ran by the injected clock, and the old one AWSPREVIOUS', async () => {
    // Prepare
    const { store, clock } = await setup();
    await store.ensure();
    const original = (await store.load())['widget-signing-secret'].current;
    clock.set(T0 + HOUR);
    const token = await store.startRotation('widget-signing-secret');

    // Act
    const completed: boolean[] = [];
    for (const [i, step] of ROTATION_STEPS.entries()) {
      clock.set(T0 + (2 + i) * HOUR);
      completed.push(await runRotationStep(store, { secretId: 'widget-signing-secret', token, step }));
    }

    // Assess
    expect(completed).toEqual([false, false, false, true]);
    const entry = (await store.load())['widget-signing-secret'];
    expect(entry.current.versionId).toBe(token);
    expect(entry.current.createdAt).toBe(T0 + 2 * HOUR);
    expect(entry.current.value).not.toBe(original.value);
    expect(checkSecrets({ rotated: entry.current.value })).toEqual([]);
    expect(entry.previous).toEqual(original);
  });

  it('It should keep only the current and the previous version after rotating three times', async () => {
    // Prepare
    const { store, path, clock } = await setup();
    await store.ensure();
    const values: string[] = [(await store.load())['server-api-key'].current.value];
    const untouched = await store.load();

    // Act
    for (let i = 0; i < 3; i += 1) {
      clock.advance(HOUR);
      await rotateNow(store, 'server-api-key');
      values.push((await store.load())['server-api-key'].current.value);
    }

    // Assess
    expect(new Set(values).size).toBe(4);
    const versions = versionsOf(await readStore(path), 'server-api-key');
    expect(versions.map((v) => [v.value, v.stages])).toEqual(
      expect.arrayContaining([
        [values[3], ['AWSCURRENT']],
        [values[2], ['AWSPREVIOUS']],
      ]),
    );
    expect(versions).toHaveLength(2);
    const snapshot = await store.load();
    expect(snapshot['server-api-key'].current).toMatchObject({ value: values[3], createdAt: T0 + 3 * HOUR });
    expect(snapshot['server-api-key'].previous).toMatchObject({ value: values[2], createdAt: T0 + 2 * HOUR });
    for (const name of SECRET_NAMES.filter((n) => n !== 'server-api-key'))
      expect(snapshot[name]).toEqual(untouched[name]);
  });

  it('It should drop the stub of an abandoned rotation when a new one starts', async () => {
    // Prepare
    const { store, path } = await setup();
    await store.ensure();
    const abandoned = await store.startRotation('admin-api-key');

    // Act
    const token = await store.startRotation('admin-api-key');
    await rotateNow(store, 'admin-api-key');

    // Assess
    expect(token).not.toBe(abandoned);
    const versions = versionsOf(await readStore(path), 'admin-api-key');
    expect(versions.map((v) => v.versionId)).not.toContain(abandoned);
    expect(versions.flatMap((v) => v.stages).sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
  });

  it('It should keep the file at mode 0600, with no temporary file left, through every write of a rotation', async () => {
    // Prepare
    const { store, path } = await setup();
    await store.ensure();
    const modes: number[] = [];

    // Act
    const token = await store.startRotation('widget-api-key');
    modes.push(await modeOf(path));
    for (const step of ROTATION_STEPS) {
      await runRotationStep(store, { secretId: 'widget-api-key', token, step });
      modes.push(await modeOf(path));
    }

    // Assess
    expect(modes).toEqual([0o600, 0o600, 0o600, 0o600, 0o600]);
    expect(await readdir(dirname(path))).toEqual(['secrets.json']);
  });

  it.each([['token'], ['WIDGET_API_KEY'], ['../secrets'], ['']])(
    'It should refuse to rotate an unknown secret name (%j)',
    async (name) => {
      // Prepare
      const { store, path } = await setup();
      await store.ensure();
      const before = await readFile(path, 'utf8');

      // Act
      const starting = store.startRotation(name);

      // Assess
      expect(isSecretName(name)).toBe(false);
      await expect(starting).rejects.toThrow(/Unknown secret/);
      expect(await readFile(path, 'utf8')).toBe(before);
    },
  );

  it('It should refuse to store a pending value under a version that was never staged', async () => {
    // Prepare
    const { store } = await setup();
    await store.ensure();

    // Act
    const putting = store.putPending('widget-api-key', 'no-such-version', 'irrelevant');

    // Assess
    await expect(putting).rejects.toThrow(/No version no-such-version of widget-api-key/);
  });
});

describe('FileSecretStore with a corrupt file', () => {
  /** Edits a valid store into a broken one. */
  const corruptions: Array<[string, (valid: string) => string]> = [
    ['a truncated file', (valid) => valid.slice(0, valid.length / 2)],
    ['an empty file', () => ''],
    ['not JSON at all', () => 'WIDGET_API_KEY=abc\n'],
    [
      'a value that lost its quotes in a hand edit',
      (valid) => {
        const value = (JSON.parse(valid) as StoredFile).secrets['admin-api-key']!.versions[0]!.value!;
        return valid.replace(`"${value}"`, value);
      },
    ],
    ['an unknown format version', (valid) => JSON.stringify({ ...JSON.parse(valid), version: 2 })],
    [
      'an unknown secret name',
      (valid) => {
        const file = JSON.parse(valid) as StoredFile;
        file.secrets['model-api-key'] = file.secrets['widget-api-key']!;
        return JSON.stringify(file);
      },
    ],
    [
      'an unknown stage',
      (valid) => {
        const file = JSON.parse(valid) as StoredFile;
        file.secrets['widget-api-key']!.versions[0]!.stages = ['CURRENT'];
        return JSON.stringify(file);
      },
    ],
    [
      'a creation date that is not a date',
      (valid) => {
        const file = JSON.parse(valid) as StoredFile;
        file.secrets['admin-api-key']!.versions[0]!.createdAt = 'yesterday';
        return JSON.stringify(file);
      },
    ],
    ['an extra field', (valid) => JSON.stringify({ ...(JSON.parse(valid) as StoredFile), note: 'hand-edited' })],
  ];

  it.each(corruptions)(
    'It should fail with an error naming the file, and quoting no secret, for %s',
    async (_label, corrupt) => {
      // Prepare
      const { store, path } = await setup();
      await store.ensure();
      const valid = await readFile(path, 'utf8');
      const values = SECRET_NAMES.map((name) => versionsOf(JSON.parse(valid) as StoredFile, name)[0]!.value!);
      await writeFile(path, corrupt(valid));

      // Act
      const error = await store.load().then(
        () => undefined,
        (e: unknown) => e as Error,
      );

      // Assess
      expect(error).toBeInstanceOf(Error);
      const message = error?.message ?? '';
      expect({ namesTheFile: message.includes(path), quotedSecrets: fragmentsIn(message, values) }).toEqual({
        namesTheFile: true,
        quotedSecrets: [],
      });
    },
  );

  it.each(corruptions)('It should neither rotate nor overwrite %s', async (_label, corrupt) => {
    // Prepare
    const { store, path } = await setup();
    await store.ensure();
    const broken = corrupt(await readFile(path, 'utf8'));
    await writeFile(path, broken);

    // Act
    const created = await store.ensure();
    const rotating = rotateNow(store, 'widget-api-key');

    // Assess
    expect(created).toBe(false);
    await expect(rotating).rejects.toThrow();
    expect(await readFile(path, 'utf8')).toBe(broken);
  });

  it.each(SECRET_NAMES.map((name) => [name]))(
    'It should fail with an error naming the file and the secret when %s has no AWSCURRENT value',
    async (name) => {
      // Prepare
      const { store, path } = await setup();
      await store.ensure();
      const file = await readStore(path);
      file.secrets[name]!.versions[0]!.stages = ['AWSPREVIOUS'];
      await writeFile(path, JSON.stringify(file));

      // Act
      const loading = store.load();

      // Assess
      await expect(loading).rejects.toThrow(`${path} has no AWSCURRENT value of ${name}`);
    },
  );
});

describe('FileSecretStore.withRotationLock', () => {
  it('should refuse a second rotation while one runs, naming it, and allow the next once it is done', async () => {
    // Prepare
    const { store } = await setup();
    await store.ensure();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = store.withRotationLock('widget-api-key', () => held.then(() => 'first'));
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Act
    const second = await store.withRotationLock('widget-api-key', async () => 'second').catch((e: Error) => e);
    release();
    const firstDone = await first;
    const third = await store.withRotationLock('widget-api-key', async () => 'third');

    // Assess
    expect(second).toBeInstanceOf(RotationInProgressError);
    expect((second as Error).message).toMatch(/Another rotation \(widget-api-key, pid \d+\) is running/);
    expect([firstDone, third]).toEqual(['first', 'third']);
  });

  it('should take over a lock left by a process that is gone', async () => {
    // Prepare: no process has a pid this high (Linux caps pids at 2^22)
    const { store } = await setup();
    await store.ensure();
    await writeFile(store.lockPath, JSON.stringify({ pid: 2 ** 22 + 1, secret: 'admin-api-key' }));

    // Act
    const result = await store.withRotationLock('widget-api-key', async () => 'rotated');

    // Assess
    expect(result).toBe('rotated');
    await expect(stat(store.lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('should release the lock when the rotation fails', async () => {
    // Prepare
    const { store } = await setup();
    await store.ensure();

    // Act
    const failed = await store
      .withRotationLock('widget-api-key', async () => Promise.reject(new Error('boom')))
      .catch((e: Error) => e.message);

    // Assess
    expect(failed).toBe('boom');
    await expect(stat(store.lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
