/**
 * Synthesizes the CDK app into a directory of our choosing, exactly as `cdk synth` runs it
 * (`bin/chat-widget.ts` with the context of `cdk.json` plus overrides), without the CLI's
 * start-up cost. Bundling can be skipped when only the template matters (linting).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The stack the app defines. */
export const STACK_NAME = 'ChatWidget';
/**
 * Where synthesized copies live. Inside the repository on purpose: the bundles keep `@aws-sdk/*`
 * external (the Lambda runtime provides it), and Node resolves it from the nearest node_modules.
 */
export const SYNTH_ROOT = join(ROOT, '.synth');

export interface SynthOptions {
  /** Context on top of `cdk.json`'s (`-c key=value`). */
  readonly context?: Readonly<Record<string, string | boolean | number>>;
  /** Build the Lambda bundles (needed to run them; not to lint the template). @default true */
  readonly bundle?: boolean;
}

/** The context `cdk synth` would pass: `cdk.json`'s, then the overrides. */
async function appContext(options: SynthOptions): Promise<Record<string, unknown>> {
  const cdkJson = JSON.parse(await readFile(join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return {
    ...cdkJson.context,
    ...options.context,
    'aws:cdk:enable-path-metadata': true,
    'aws:cdk:enable-asset-metadata': true,
    'aws:cdk:bundling-stacks': options.bundle === false ? [] : ['**'],
  };
}

/** Runs the app into `outdir` (replaced); resolves with the template's path, rejects with the app's output. */
export async function synthesize(outdir: string, options: SynthOptions = {}): Promise<string> {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/chat-widget.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify(await appContext(options)),
      CDK_DEFAULT_REGION: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.once('close', done));
  if (code !== 0) throw new Error(`synth into ${relative(ROOT, outdir)} failed (exit ${String(code)}):\n${output}`);
  return join(outdir, `${STACK_NAME}.template.json`);
}

/** The inputs of a synth: the app, the stack, the handlers, their dependencies. */
const INPUTS = ['bin', 'lib', 'lambdas', 'widget/src', 'cdk.json', 'package-lock.json'];

async function* files(path: string): AsyncGenerator<string> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) {
    yield path;
    return;
  }
  for (const entry of (await readdir(path)).sort()) yield* files(join(path, entry));
}

/** A digest of every synth input and of `options`: equal digests, equal synth. */
export async function inputDigest(options: SynthOptions): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(options));
  for (const input of INPUTS) {
    for await (const file of files(join(ROOT, input))) {
      hash
        .update(relative(ROOT, file))
        .update('\0')
        .update(await readFile(file))
        .update('\0');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * A synth of the current sources with bundles, reused while no input changed (so a test run
 * synthesizes once however many suites ask). Concurrent callers wait for the one that builds it.
 */
export async function cachedSynth(options: SynthOptions = {}): Promise<string> {
  const dir = join(SYNTH_ROOT, `app-${await inputDigest(options)}`);
  const template = join(dir, `${STACK_NAME}.template.json`);
  const lock = `${dir}.lock`;
  for (;;) {
    if (await stat(template).catch(() => undefined)) return template;
    await mkdir(SYNTH_ROOT, { recursive: true });
    try {
      await mkdir(lock);
    } catch {
      // Someone else is building it; a lock older than 10 minutes belongs to a process that died.
      const held = await stat(lock).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > 600_000) await rm(lock, { recursive: true, force: true });
      await new Promise((wait) => setTimeout(wait, 1000));
      continue;
    }
    try {
      const building = `${dir}.building`;
      await synthesize(building, options);
      await rename(building, dir);
      return template;
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
}

// `tsx scripts/synth.ts`: prints the path of the cached synth of the current sources.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${await cachedSynth()}\n`);
}
