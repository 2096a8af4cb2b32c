/**
 * `moto_server` (moto 5, preinstalled with the image's Python) on a free loopback port: Secrets
 * Manager and SQS for `start:synth` and the tests, started and stopped as a child process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { stoppedWithThisProcess } from '../parent-death.js';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from '../dynamodb.js';

/** A running moto server. */
export interface MotoServer {
  readonly endpoint: string;
  /** Stops it and waits for it to exit. */
  stop(): Promise<void>;
}

/** `moto_server` on PATH, else in pyenv's shims; undefined when absent. */
export function findMotoServer(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).stdout.trim();
  if (onPath !== '') return onPath;
  const shim = join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'shims', 'moto_server');
  return existsSync(shim) ? shim : undefined;
}

/** The directory of `sitecustomize.py`, which fixes moto's rotation behaviour (see the file). */
const PATCH_DIR = fileURLToPath(new URL('./moto-patch/', import.meta.url));

/**
 * Starts moto_server on 127.0.0.1 with the rotation patch; `lambdaInvokeUrl` is where RotateSecret
 * sends its Lambda invocations. Throws when moto is not installed or does not come up within 60 s.
 */
export async function startMoto(lambdaInvokeUrl?: string): Promise<MotoServer> {
  const command = findMotoServer();
  if (command === undefined) {
    throw new Error('moto_server is not installed (looked on PATH and in ~/.pyenv/shims); start:synth needs it');
  }
  const port = await freePort();
  const [guarded, args] = stoppedWithThisProcess(command, ['-H', '127.0.0.1', '-p', String(port)]);
  const child = spawn(guarded, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      PYTHONPATH: [PATCH_DIR, process.env.PYTHONPATH].filter(Boolean).join(':'),
      ...(lambdaInvokeUrl === undefined ? {} : { MOTO_LAMBDA_INVOKE_URL: lambdaInvokeUrl }),
    },
  });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-2000)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForPort(port, 60_000),
      exited.then(() => {
        throw new Error(`moto_server exited: ${errors}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
