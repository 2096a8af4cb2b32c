/**
 * Secret rotation end to end (design §5): a server whose secrets come from the local file store
 * (no secret in its environment), rotated with `npm run rotate` while it runs. The previous value
 * keeps working for SECRET_GRACE_SECONDS after the new version's creation, then is refused; new
 * tokens are signed with the new secret; two rotations in a row leave a working system; and
 * traffic with the old widget key sees no failure across a rotation until the grace ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { jwtVerify } from 'jose';
import { http, postJson, type HttpResponse } from '../helpers/http.js';
import { GENEROUS_LIMITS, runScript, type ScriptRun } from '../helpers/local-server.js';

/** Short enough to wait for, long enough to observe the overlap on a busy machine. */
const GRACE_SECONDS = 8;
const CACHE_TTL_SECONDS = 1;
const START_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 90_000;
/** How long a running server may take to pick a rotated value up (cache TTL plus a busy machine). */
const PICKUP_TIMEOUT_MS = 6_000;
const POLL_INTERVAL_MS = 100;

/** Concurrent turns each reserve a whole turn from the one client address's budget (design §12). */
const LIMITS: Readonly<Record<string, string>> = {
  ...GENEROUS_LIMITS,
  BUDGET_TOKENS_PER_IP: '0',
  BUDGET_TOKENS_PER_SESSION: '0',
};

type Variable = 'WIDGET_API_KEY' | 'ADMIN_API_KEY' | 'SERVER_API_KEY' | 'WIDGET_SIGNING_SECRET';
type SecretName = 'widget-api-key' | 'admin-api-key' | 'server-api-key' | 'widget-signing-secret';
type Shown = Record<Variable, { current: string; previous: string | null }>;
interface StoredFile {
  secrets: Record<
    string,
    { versions: Array<{ versionId: string; value: string; createdAt: string; stages: string[] }> }
  >;
}
interface Rotation {
  readonly versionId: string;
  /** When the previous value stops being accepted (epoch ms): the new version's createdAt plus the grace. */
  readonly graceEndsAt: number;
}

let dataDir: string;
let server: ChildProcess;
let url: string;
let output = '';
let session = 0;

/** The environment of every process: nothing inherited, so no secret variable leaks in. */
const cleanEnv = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  LOCAL_DATA_DIR: dataDir,
  ...extra,
});

/** Runs `local/<script>.ts` as npm would (`npm run rotate`, `npm run secrets`) and collects its output. */
const runTool = (script: 'rotate' | 'secrets-cli', args: string[]): Promise<ScriptRun> =>
  // The tools read the grace the server uses: `rotate` refuses to rotate again within it.
  runScript(`local/${script}.ts`, args, cleanEnv({ SECRET_GRACE_SECONDS: String(GRACE_SECONDS) }));

/** `npm run rotate -- <name> [--force]`; returns the new version and when the grace of the old one ends. */
async function rotate(name: SecretName, ...flags: '--force'[]): Promise<Rotation> {
  const run = await runTool('rotate', [name, ...flags]);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const { secret, versionId } = JSON.parse(run.stdout) as { secret: string; versionId: string };
  expect(secret).toBe(name);
  const current = await currentInFile(name);
  expect(current.versionId).toBe(versionId);
  return { versionId, graceEndsAt: Date.parse(current.createdAt) + GRACE_SECONDS * 1000 };
}

/** The AWSCURRENT version of `name` as stored in `secrets.json`. */
async function currentInFile(name: SecretName) {
  const file = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as StoredFile;
  return file.secrets[name]!.versions.find((v) => v.stages.includes('AWSCURRENT'))!;
}

/** `npm run secrets -- show`: every current and previous value. */
async function show(): Promise<Shown> {
  const run = await runTool('secrets-cli', ['show']);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Shown;
}

/** `npm run secrets -- get <VARIABLE>`: one current value. */
async function get(variable: Variable): Promise<string> {
  const run = await runTool('secrets-cli', ['get', variable]);
  expect(run.code).toBe(0);
  return run.stdout.trim();
}

/** Calls `attempt` every POLL_INTERVAL_MS until it returns a value; fails after `timeoutMs`. */
async function pollUntil<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(POLL_INTERVAL_MS);
  }
}

const chat = (widgetKey: string, token?: string) =>
  postJson(
    `${url}/v1/chat`,
    { sessionId: `rotation-${(session += 1)}`, message: 'hello' },
    { 'X-Widget-Api-Key': widgetKey, ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }) },
  );
const listConversations = (adminKey: string) =>
  http(`${url}/v1/admin/conversations?limit=1`, { headers: { Authorization: `Bearer ${adminKey}` } });
const mintRaw = (serverKey: string) =>
  postJson(`${url}/v1/tokens`, { userId: `rotation-user-${(session += 1)}` }, { Authorization: `Bearer ${serverKey}` });
const mint = async (serverKey: string): Promise<string> => {
  const res = await mintRaw(serverKey);
  expect(res.status).toBe(201);
  return (res.json as { token: string }).token;
};
const verifiesWith = (token: string, secret: string) =>
  jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'] }).then(
    () => true,
    () => false,
  );
const errorCode = (res: HttpResponse) => (res.json as { error?: { code?: string } } | undefined)?.error?.code;

/**
 * Sends `request` until it is refused. Every answer before the grace ends must be a success (the
 * old value is still valid); the refusal must be a 401 that arrives only once the grace has ended.
 */
async function expectRefusedOnlyAfterGrace(
  request: () => Promise<HttpResponse>,
  rotation: Rotation,
  success: number,
): Promise<HttpResponse> {
  const early: Array<{ status: number; at: number }> = [];
  const refused = await pollUntil(
    'the old value to be refused',
    rotation.graceEndsAt - Date.now() + 6_000,
    async () => {
      const res = await request();
      const at = Date.now();
      if (res.status === success) return undefined;
      if (at < rotation.graceEndsAt) early.push({ status: res.status, at });
      return { res, at };
    },
  );
  expect(early).toEqual([]);
  expect(refused.at).toBeGreaterThanOrEqual(rotation.graceEndsAt);
  expect(refused.res.status).toBe(401);
  expect(errorCode(refused.res)).toBe('UNAUTHORIZED');
  return refused.res;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-widget-rotation-'));
  server = spawn(process.execPath, ['--import', 'tsx', 'local/server.ts'], {
    cwd: process.cwd(),
    env: cleanEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      LOCAL_DYNAMODB: 'memory',
      SECRET_CACHE_TTL_SECONDS: String(CACHE_TTL_SECONDS),
      SECRET_GRACE_SECONDS: String(GRACE_SECONDS),
      ...LIMITS,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/listening on http:\/\/\S+/.test(output) && output.includes('"tables ready"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    server.stdout?.on('data', onData);
    server.stderr?.on('data', onData);
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready:\n${output}`));
    });
  });
  await ready;
  url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
}, START_TIMEOUT_MS);

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  await rm(dataDir, { recursive: true, force: true });
});

describe('secret rotation on a running server', () => {
  it('It should serve the secrets of the file store it created, not of its environment', async () => {
    // Act
    const shown = await show();

    // Assess
    expect(output).toContain('(created with fresh random values)');
    expect((await chat(shown.WIDGET_API_KEY.current)).status).toBe(200);
    expect((await listConversations(shown.ADMIN_API_KEY.current)).status).toBe(200);
    expect((await mintRaw(shown.SERVER_API_KEY.current)).status).toBe(201);
  });

  it(
    'It should keep accepting tokens signed with the old signing secret during the grace only, and sign new tokens with the new one',
    async () => {
      // Prepare
      const before = await show();
      const widgetKey = before.WIDGET_API_KEY.current;
      const serverKey = before.SERVER_API_KEY.current;
      const oldSecret = before.WIDGET_SIGNING_SECRET.current;
      const oldToken = await mint(serverKey);
      expect(await verifiesWith(oldToken, oldSecret)).toBe(true);
      expect((await chat(widgetKey, oldToken)).status).toBe(200);

      // Act
      const rotation = await rotate('widget-signing-secret');
      const newSecret = await get('WIDGET_SIGNING_SECRET');

      // Assess
      expect(newSecret).not.toBe(oldSecret);
      const newToken = await pollUntil('a token signed with the new secret', PICKUP_TIMEOUT_MS, async () => {
        const token = await mint(serverKey);
        return (await verifiesWith(token, newSecret)) ? token : undefined;
      });
      expect(await verifiesWith(newToken, oldSecret)).toBe(false);
      expect((await chat(widgetKey, newToken)).status).toBe(200);
      expect(Date.now()).toBeLessThan(rotation.graceEndsAt);
      expect((await chat(widgetKey, oldToken)).status).toBe(200);

      const refused = await expectRefusedOnlyAfterGrace(() => chat(widgetKey, oldToken), rotation, 200);
      expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
      expect((await chat(widgetKey, newToken)).status).toBe(200);
      expect((await chat(widgetKey, await mint(serverKey))).status).toBe(200);
    },
    TEST_TIMEOUT_MS,
  );

  const keys: Array<[SecretName, Variable, number, (key: string) => Promise<HttpResponse>]> = [
    ['widget-api-key', 'WIDGET_API_KEY', 200, (key) => chat(key)],
    ['admin-api-key', 'ADMIN_API_KEY', 200, (key) => listConversations(key)],
    ['server-api-key', 'SERVER_API_KEY', 201, (key) => mintRaw(key)],
  ];

  it.each(keys)(
    'It should accept the old %s during the grace only, and the new one from the next refresh',
    async (name, variable, success, request) => {
      // Prepare
      const oldKey = (await show())[variable].current;
      expect((await request(oldKey)).status).toBe(success);

      // Act
      const rotation = await rotate(name);
      const newKey = await get(variable);

      // Assess
      expect(newKey).not.toBe(oldKey);
      await pollUntil(`the new ${name} to be accepted`, PICKUP_TIMEOUT_MS, async () =>
        (await request(newKey)).status === success ? true : undefined,
      );
      expect(Date.now()).toBeLessThan(rotation.graceEndsAt);
      expect((await request(oldKey)).status).toBe(success);

      await expectRefusedOnlyAfterGrace(() => request(oldKey), rotation, success);
      expect((await request(newKey)).status).toBe(success);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'It should leave a working system after rotating every secret twice in a row, with the original values gone',
    async () => {
      // Prepare
      const original = await show();
      const names: Array<[SecretName, Variable]> = [
        ['widget-api-key', 'WIDGET_API_KEY'],
        ['admin-api-key', 'ADMIN_API_KEY'],
        ['server-api-key', 'SERVER_API_KEY'],
        ['widget-signing-secret', 'WIDGET_SIGNING_SECRET'],
      ];
      const originalToken = await mint(original.SERVER_API_KEY.current);

      // Act
      const firstRotated: Partial<Record<Variable, string>> = {};
      for (const [name, variable] of names) {
        await rotate(name, '--force');
        firstRotated[variable] = (await currentInFile(name)).value;
        await rotate(name, '--force');
      }
      const after = await show();

      // Assess
      for (const [, variable] of names) {
        expect(after[variable].previous).toBe(firstRotated[variable]);
        expect(new Set([original[variable].current, after[variable].previous, after[variable].current]).size).toBe(3);
      }
      await pollUntil('the new widget key to be accepted', PICKUP_TIMEOUT_MS, async () =>
        (await chat(after.WIDGET_API_KEY.current)).status === 200 ? true : undefined,
      );
      const token = await pollUntil('a token signed with the newest secret', PICKUP_TIMEOUT_MS, async () => {
        const minted = await mint(after.SERVER_API_KEY.current);
        return (await verifiesWith(minted, after.WIDGET_SIGNING_SECRET.current)) ? minted : undefined;
      });
      expect((await chat(after.WIDGET_API_KEY.current, token)).status).toBe(200);
      expect((await listConversations(after.ADMIN_API_KEY.current)).status).toBe(200);

      expect((await chat(original.WIDGET_API_KEY.current)).status).toBe(401);
      expect((await listConversations(original.ADMIN_API_KEY.current)).status).toBe(401);
      expect((await mintRaw(original.SERVER_API_KEY.current)).status).toBe(401);
      expect((await chat(after.WIDGET_API_KEY.current, originalToken)).status).toBe(401);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'should rotate once when two rotations of one secret start together, keeping the original value for the grace',
    async () => {
      // Prepare: the grace of every earlier rotation has ended
      const original = (await currentInFile('admin-api-key')).value;
      const stored = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as StoredFile;
      const latest = Math.max(
        ...Object.values(stored.secrets).flatMap((s) => s.versions.map((v) => Date.parse(v.createdAt))),
      );
      await delay(Math.max(0, latest + GRACE_SECONDS * 1000 - Date.now() + 100));

      // Act
      const runs = await Promise.all([runTool('rotate', ['admin-api-key']), runTool('rotate', ['admin-api-key'])]);

      // Assess
      expect(runs.map((run) => run.code).sort()).toEqual([0, 1]);
      const refused = runs.find((run) => run.code === 1)!;
      expect(refused.stderr).toMatch(
        /Another rotation \(admin-api-key, pid \d+\) is running|rotated at .* accepted until/,
      );
      expect(refused.stderr).not.toContain(original);
      const after = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as StoredFile;
      const previous = after.secrets['admin-api-key']!.versions.find((v) => v.stages.includes('AWSPREVIOUS'));
      expect(previous?.value).toBe(original);
      expect(after.secrets['admin-api-key']!.versions.flatMap((v) => v.stages).sort()).toEqual([
        'AWSCURRENT',
        'AWSPREVIOUS',
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'It should answer every request with the old widget key across a rotation under load, until the grace ends',
    async () => {
      // Prepare
      const oldKey = await get('WIDGET_API_KEY');
      const results: Array<{ status: number; start: number; end: number }> = [];
      let stopAt = Number.POSITIVE_INFINITY;
      const hardStop = Date.now() + 60_000;
      const worker = async () => {
        for (let i = 0; i < 5_000 && Date.now() < Math.min(stopAt, hardStop); i += 1) {
          const start = Date.now();
          const res = await chat(oldKey);
          results.push({ status: res.status, start, end: Date.now() });
        }
      };
      const load = Promise.all([worker(), worker(), worker(), worker()]);
      await pollUntil('the load to be running', PICKUP_TIMEOUT_MS, async () =>
        results.length >= 4 ? true : undefined,
      );

      // Act
      let rotation: Rotation;
      try {
        rotation = await rotate('widget-api-key', '--force');
      } catch (error) {
        stopAt = 0;
        await load;
        throw error;
      }
      const rotatedAt = Date.now();
      stopAt = rotation.graceEndsAt;
      const newKey = await get('WIDGET_API_KEY');
      const switchedAt = await pollUntil('the new widget key to be accepted', PICKUP_TIMEOUT_MS, async () =>
        (await chat(newKey)).status === 200 ? Date.now() : undefined,
      );
      await load;

      // Assess
      const withinGrace = results.filter((r) => r.end < rotation.graceEndsAt);
      expect(withinGrace.filter((r) => r.status !== 200)).toEqual([]);
      // The overlap was exercised: old-key requests after the server switched to the new key (at
      // least one per worker: how many more depends on how busy the machine is), and for at least
      // two seconds after the rotation finished.
      expect(withinGrace.filter((r) => r.start > switchedAt).length).toBeGreaterThanOrEqual(4);
      expect(Math.max(...withinGrace.map((r) => r.end))).toBeGreaterThanOrEqual(rotatedAt + 2_000);
      expect(switchedAt).toBeLessThan(rotation.graceEndsAt);
    },
    TEST_TIMEOUT_MS,
  );
});
