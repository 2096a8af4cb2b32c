/**
 * Starts `local/server.ts` as a child process (exactly what `npm start` runs) on a random port
 * with a fresh data directory, and captures everything it prints for log assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret } from '../../lambdas/lib/secret-strength.js';
import { stoppedWithThisProcess } from '../../local/parent-death.js';

export interface TestSecrets {
  readonly widgetKey: string;
  readonly adminKey: string;
  readonly serverKey: string;
  readonly signingSecret: string;
}

export interface RunningServer {
  readonly url: string;
  readonly secrets: TestSecrets;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** Waits until the output matches `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends SIGTERM, waits for exit, removes the data directory. */
  stop(): Promise<void>;
}

/** Fresh, strong, distinct secrets for one server. */
export function testSecrets(): TestSecrets {
  return {
    widgetKey: generateSecret(),
    adminKey: generateSecret(),
    serverKey: generateSecret(),
    signingSecret: generateSecret(),
  };
}

/** Runs the server with `env` until `exitPattern` or exit; for start-up refusals. Returns output and exit code. */
export async function runServerExpectingExit(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chat-widget-test-'));
  const child = spawnServer({ LOCAL_DATA_DIR: dataDir, ...env });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, timeoutMs);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  await rm(dataDir, { recursive: true, force: true });
  return { code, output };
}

/**
 * Limits high enough that a suite's own traffic from 127.0.0.1 never trips them; the rate-limit
 * tests set their own. Everything else runs with the defaults of the contract.
 */
export const GENEROUS_LIMITS: Readonly<Record<string, string>> = {
  RATE_LIMIT_MAX_REQUESTS: '100000',
  RATE_LIMIT_SESSION_MAX: '100000',
  RATE_LIMIT_USER_MAX: '100000',
  TOKEN_RATE_LIMIT_MAX: '100000',
  ADMIN_RATE_LIMIT_MAX: '100000',
  AUTH_FAILURE_LIMIT: '100000',
  BUDGET_TOKENS_PER_SESSION: '1000000000000',
  BUDGET_TOKENS_PER_USER: '1000000000000',
  BUDGET_TOKENS_PER_IP: '1000000000000',
  BUDGET_TOKENS_PER_DAY: '1000000000000',
  VISITOR_TOKEN_RATE_LIMIT_MAX: '100000',
};

/** How a script run to its end exited, and what it printed. */
export interface ScriptRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `script` (e.g. `local/rotate.ts`) as its npm script does, with exactly `env`, to its end. */
export function runScript(script: string, args: readonly string[], env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: process.cwd(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function spawnServer(env: Record<string, string>, script = 'local/server.ts'): ChildProcess {
  // Stopped by the kernel when this worker dies, so a killed test run leaves no server (nor its JVM).
  const [command, args] = stoppedWithThisProcess(process.execPath, ['--import', 'tsx', script]);
  return spawn(command, args, {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOCAL_DYNAMODB: process.env.TEST_LOCAL_DYNAMODB ?? 'memory',
      ...GENEROUS_LIMITS,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts a server with fresh secrets (overridable) and waits until it listens and its tables exist. */
export async function startServer(
  env: Record<string, string> = {},
  secrets: TestSecrets = testSecrets(),
  script = 'local/server.ts',
): Promise<RunningServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chat-widget-test-'));
  const child = spawnServer(
    {
      LOCAL_DATA_DIR: dataDir,
      WIDGET_API_KEY: secrets.widgetKey,
      ADMIN_API_KEY: secrets.adminKey,
      SERVER_API_KEY: secrets.serverKey,
      WIDGET_SIGNING_SECRET: secrets.signingSecret,
      ...env,
    },
    script,
  );
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const waitForOutput = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(output)) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        } else if (child.exitCode !== null) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`server exited (${child.exitCode}) before ${String(pattern)}:\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${String(pattern)}:\n${output}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    await waitForOutput(/listening on (http:\/\/\S+)/);
    if (!env.DYNAMODB_ENDPOINT && script === 'local/server.ts') await waitForOutput(/"tables ready"/);
  } catch (error) {
    await stop();
    throw error;
  }
  const url = /listening on (http:\/\/\S+)/.exec(output)?.[1] as string;
  return { url, secrets, dataDir, process: child, output: () => output, waitForOutput, stop };
}

/**
 * The server the suites run against: `npm start` (`local`), or `npm run start:synth` (`synth`: the
 * synthesized template and bundles), chosen by `TEST_TARGET`, which the `synth` Jest project sets.
 */
export const TARGET: 'local' | 'synth' = process.env.TEST_TARGET === 'synth' ? 'synth' : 'local';

/** Variables that configure the local server itself, not the functions. */
const LOCAL_SERVER_ONLY = new Set(['LOCAL_DATA_DIR', 'LOCAL_DYNAMODB', 'DYNAMODB_ENDPOINT', 'PORT', 'HOST']);

/**
 * Starts the target with `env` and `secrets`. On `synth`, the secrets seed Secrets Manager (moto)
 * and every other variable is added to each function's template environment.
 */
export async function startTarget(
  env: Record<string, string> = {},
  secrets: TestSecrets = testSecrets(),
): Promise<RunningServer> {
  if (TARGET === 'local') return startServer(env, secrets);
  // The template is a production deployment, which requires widget tokens; the suites are written
  // for `npm start`'s development default (keys accepted) and set REQUIRE_WIDGET_TOKEN where it matters.
  const functionEnv = Object.fromEntries(
    Object.entries({ ...GENEROUS_LIMITS, REQUIRE_WIDGET_TOKEN: 'false', ...env }).filter(
      ([name]) => !LOCAL_SERVER_ONLY.has(name),
    ),
  );
  const template = process.env.SYNTH_TEMPLATE;
  if (template === undefined) throw new Error('SYNTH_TEMPLATE is not set: the synth Jest project synthesizes it');
  return startServer(
    { SYNTH_TEMPLATE: template, SYNTH_FUNCTION_ENV: JSON.stringify(functionEnv) },
    secrets,
    'local/synth/server.ts',
  );
}

/**
 * `describe` for suites about the local server's own adapters; not registered on the `synth`
 * target. Outside Jest (the bench imports this file) there is no `describe`.
 */
export const describeLocalOnly: jest.Describe | ((name: string, fn: () => void) => void) =
  TARGET === 'local' && typeof describe === 'function' ? describe : () => undefined;
