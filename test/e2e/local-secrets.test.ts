/**
 * The local secret store (design §5) as an operator meets it: `npm run secrets` creates
 * `secrets.json` with strong random values (mode 0600) and shows them; environment overrides
 * win; a server started on that directory with no secret in its environment accepts the file's
 * widget key, and SIGTERM stops it together with its DynamoDB Local child.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson } from '../helpers/http.js';
import { checkSecrets } from '../../lambdas/lib/secret-strength.js';
import { runScript, startServer, type ScriptRun } from '../helpers/local-server.js';

const VARIABLES = [
  'WIDGET_API_KEY',
  'ADMIN_API_KEY',
  'SERVER_API_KEY',
  'WIDGET_SIGNING_SECRET',
  'WEBHOOK_SIGNING_SECRET',
];
const NAMES = ['widget-api-key', 'admin-api-key', 'server-api-key', 'widget-signing-secret', 'webhook-signing-secret'];
const START_TIMEOUT_MS = 60_000;

interface StoredFile {
  version: number;
  secrets: Record<
    string,
    { versions: Array<{ versionId: string; value: string; createdAt: string; stages: string[] }> }
  >;
}
type Shown = Record<string, { current: string; previous: string | null }>;

/** A clean environment: no secret variable leaks in from the test runner's. */
const baseEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  LOCAL_DATA_DIR: dataDir,
  ...extra,
});

/** Runs `npm run secrets -- <args>` (the same command line npm runs) and collects its output. */
const secretsCli = (args: string[], env: Record<string, string>): Promise<ScriptRun> =>
  runScript('local/secrets-cli.ts', args, env);

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
const readStore = async (dataDir: string) =>
  JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as StoredFile;
const currentValues = (file: StoredFile) =>
  Object.fromEntries(NAMES.map((name) => [name, file.secrets[name]!.versions[0]!.value]));

/** The pid of the DynamoDB Local JVM that `pid` started (its direct child); fails unless exactly one. */
function dynamoDbLocalOf(pid: number | undefined): number {
  const java = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) === pid)
    .filter((m) => /java/.test(m[3]!) && /DynamoDBLocal/.test(m[3]!));
  expect(java).toHaveLength(1);
  return Number(java[0]![1]);
}

/** Whether process `pid` still runs (a zombie counts as gone). */
const isRunning = (pid: number): boolean =>
  !/^\s*$|Z/.test(spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout);

describe('the local secret store', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'chat-widget-secrets-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('npm run secrets', () => {
    let dataDir: string;
    let created: Record<string, string>;

    beforeAll(() => {
      dataDir = join(root, 'cli', '.local');
    });

    it('It should create secrets.json (0600, in a 0700 directory) with one distinct strong value per secret', async () => {
      // Act
      const run = await secretsCli(['show'], baseEnv(dataDir));

      // Assess
      expect(run.code).toBe(0);
      expect(await modeOf(dataDir)).toBe(0o700);
      expect(await modeOf(join(dataDir, 'secrets.json'))).toBe(0o600);
      const file = await readStore(dataDir);
      expect(file.version).toBe(1);
      expect(Object.keys(file.secrets).sort()).toEqual([...NAMES].sort());
      for (const name of NAMES) {
        const versions = file.secrets[name]!.versions;
        expect(versions).toHaveLength(1);
        expect(versions[0]!.stages).toEqual(['AWSCURRENT']);
        expect(versions[0]!.value.length).toBeGreaterThanOrEqual(32);
      }
      created = currentValues(file);
      expect(new Set(Object.values(created)).size).toBe(NAMES.length);
      expect(checkSecrets(created)).toEqual([]);
    });

    it('It should show every secret as {current, previous: null} by variable name', async () => {
      // Act
      const run = await secretsCli(['show'], baseEnv(dataDir));

      // Assess
      expect(run.code).toBe(0);
      const shown = JSON.parse(run.stdout) as Shown;
      expect(Object.keys(shown).sort()).toEqual([...VARIABLES].sort());
      VARIABLES.forEach((variable, i) => {
        expect(shown[variable]).toEqual({ current: created[NAMES[i]!], previous: null });
      });
    });

    it('It should reuse the same values on every later run', async () => {
      // Prepare
      const before = await readFile(join(dataDir, 'secrets.json'), 'utf8');

      // Act
      const [first, second] = await Promise.all([
        secretsCli(['show'], baseEnv(dataDir)),
        secretsCli(['show'], baseEnv(dataDir)),
      ]);

      // Assess
      expect(first.stdout).toBe(second.stdout);
      expect(JSON.parse(first.stdout)).toEqual(
        Object.fromEntries(VARIABLES.map((variable, i) => [variable, { current: created[NAMES[i]!], previous: null }])),
      );
      expect(await readFile(join(dataDir, 'secrets.json'), 'utf8')).toBe(before);
    });

    describe('read-only commands', () => {
      const USAGE_CASES: Array<[string, string[]]> = [
        ['an unknown command', ['frobnicate']],
        ['no command', []],
        ['get without a name', ['get']],
        ['get with an unknown name', ['get', 'OPENAI_API_KEY']],
        ['get with a secret id instead of a variable', ['get', 'widget-api-key']],
        ['show with an argument', ['show', 'WIDGET_API_KEY']],
      ];
      const runs = new Map<string, Promise<ScriptRun>>();

      beforeAll(() => {
        // Each run costs a Node start-up; they only read the store, so all of them start at once.
        const all = [...VARIABLES.map((variable) => ['get', variable]), ...USAGE_CASES.map(([, args]) => args)];
        for (const args of all) runs.set(args.join(' '), secretsCli(args, baseEnv(dataDir)));
      });
      afterAll(async () => {
        await Promise.all(runs.values());
      });

      it.each(VARIABLES.map((variable, i) => [variable, NAMES[i]!]))(
        'It should print the bare value of %s with get',
        async (variable, name) => {
          // Act
          const run = await runs.get(`get ${variable}`)!;

          // Assess
          expect(run.code).toBe(0);
          expect(run.stdout).toBe(`${created[name]}\n`);
          expect(run.stderr).toBe('');
        },
      );

      it.each(USAGE_CASES)('It should exit 2 with usage and print no secret for %s', async (_name, args) => {
        // Act
        const run = await runs.get(args.join(' '))!;

        // Assess
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/^usage: npm run secrets -- show/);
        expect(run.stdout).toBe('');
        for (const value of Object.values(created)) expect(run.stderr).not.toContain(value);
      });
    });

    it('It should let environment variables win over the file without changing it', async () => {
      // Prepare
      const before = await readFile(join(dataDir, 'secrets.json'), 'utf8');
      const env = baseEnv(dataDir, {
        WIDGET_API_KEY: 'env-override-current-value-0123456789',
        WIDGET_API_KEY_PREVIOUS: 'env-override-previous-value-9876543210',
      });

      // Act
      const [shown, got] = await Promise.all([secretsCli(['show'], env), secretsCli(['get', 'WIDGET_API_KEY'], env)]);

      // Assess
      expect((JSON.parse(shown.stdout) as Shown).WIDGET_API_KEY).toEqual({
        current: 'env-override-current-value-0123456789',
        previous: 'env-override-previous-value-9876543210',
      });
      expect((JSON.parse(shown.stdout) as Shown).ADMIN_API_KEY!.current).toBe(created['admin-api-key']);
      expect(got.stdout).toBe('env-override-current-value-0123456789\n');
      expect(await readFile(join(dataDir, 'secrets.json'), 'utf8')).toBe(before);
    });

    it.each([
      ['0644', 0o644],
      ['0660', 0o660],
      ['0604', 0o604],
    ])('It should tighten a file of mode %s to 0600', async (_name, loose) => {
      // Prepare
      await chmod(join(dataDir, 'secrets.json'), loose);

      // Act
      const run = await secretsCli(['get', 'ADMIN_API_KEY'], baseEnv(dataDir));

      // Assess
      expect(run.code).toBe(0);
      expect(await modeOf(join(dataDir, 'secrets.json'))).toBe(0o600);
      expect(run.stdout).toBe(`${created['admin-api-key']}\n`);
    });
  });

  describe('a server on the local data directory', () => {
    let dataDir: string;
    let child: ChildProcess;
    let output = '';
    let url: string;
    let widgetKey: string;
    let adminKey: string;

    /** Waits until the server's output matches `pattern`. */
    const waitFor = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${String(pattern)}:\n${output}`)),
          START_TIMEOUT_MS,
        );
        const check = () => {
          if (pattern.test(output)) {
            clearTimeout(timer);
            child.stdout?.off('data', check);
            child.stderr?.off('data', check);
            resolve();
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`server exited (${child.exitCode}):\n${output}`));
          }
        };
        // Registered after the collectors below, so `output` already holds the chunk.
        child.stdout?.on('data', check);
        child.stderr?.on('data', check);
        check();
      });

    beforeAll(async () => {
      // The CLI creates the store; the server must adopt it, even with a loose mode.
      dataDir = join(root, 'server', '.local');
      const shown = JSON.parse((await secretsCli(['show'], baseEnv(dataDir))).stdout) as Shown;
      widgetKey = shown.WIDGET_API_KEY!.current;
      adminKey = shown.ADMIN_API_KEY!.current;
      await chmod(join(dataDir, 'secrets.json'), 0o644);
      child = spawn(process.execPath, ['--import', 'tsx', 'local/server.ts'], {
        cwd: process.cwd(),
        env: baseEnv(dataDir, { PORT: '0', HOST: '127.0.0.1', LOCAL_DYNAMODB: 'memory' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      // The server listens only once its tables are ready, so the banner comes last.
      await waitFor(/listening on http:\/\/\S+\n/);
      url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
    }, START_TIMEOUT_MS);
    afterAll(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });

    it('It should adopt the existing file, tighten it to 0600 and print its path but no secret', async () => {
      // Assess
      expect(await modeOf(join(dataDir, 'secrets.json'))).toBe(0o600);
      expect(output).toContain(join(dataDir, 'secrets.json'));
      expect(output).not.toContain('created with fresh random values');
      expect(output).not.toContain('set in the environment');
      for (const value of Object.values(currentValues(await readStore(dataDir)))) expect(output).not.toContain(value);
    });

    it.each([
      ['the widget key from the file', 200, () => widgetKey],
      ['the admin key from the file', 401, () => adminKey],
      ['another strong key', 401, () => 'Zq8vN3kLp2Xw7RtY5mB9cHj4Fd6Gs1Ae'],
    ])('It should answer a chat with %s with %i', async (_name, status, key) => {
      // Act
      const res = await postJson(
        `${url}/v1/chat`,
        { sessionId: 'file-key', message: 'hello' },
        { 'X-Widget-Api-Key': key() },
      );

      // Assess
      expect(res.status).toBe(status);
    });

    it(
      'It should stop on SIGTERM together with its DynamoDB Local child',
      async () => {
        // Prepare
        const javaPid = dynamoDbLocalOf(child.pid);
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

        // Act
        child.kill('SIGTERM');
        const code = await exited;

        // Assess
        expect(code).toBe(0);
        expect(output).toContain('SIGTERM: stopping');
        expect(isRunning(javaPid)).toBe(false);
      },
      START_TIMEOUT_MS,
    );
  });
});

describe('DynamoDB Local when the server is killed', () => {
  it(
    'should stop the JVM when the server dies by SIGKILL, which runs no exit handler',
    async () => {
      // Prepare
      const server = await startServer({ LOCAL_DYNAMODB: 'memory' });
      const javaPid = dynamoDbLocalOf(server.process.pid);
      const exited = new Promise((resolve) => server.process.once('exit', resolve));

      // Act
      server.process.kill('SIGKILL');
      await exited;

      // Assess: the kernel's parent-death signal stops it (DynamoDB Local takes a moment on SIGTERM).
      const deadline = Date.now() + 15_000;
      while (isRunning(javaPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const orphaned = isRunning(javaPid);
      if (orphaned) process.kill(javaPid, 'SIGKILL');
      await server.stop();
      expect(orphaned).toBe(false);
    },
    START_TIMEOUT_MS,
  );
});
