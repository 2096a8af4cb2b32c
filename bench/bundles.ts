/**
 * Per-function bundle size and cold-start import time. Each entry in lambdas/handlers is bundled
 * with esbuild using the options `HandlerFunction` gives CDK (`HANDLER_BUNDLING`), next to a
 * hello-world handler bundled the same way. Cold start is measured in fresh `node` processes, in
 * turns, as medians of several runs: the time to import the bundle (external AWS SDK packages
 * included, as Lambda loads them from its runtime), the same once the SDK is already loaded (the
 * bundle's own code), and the whole process from spawn to exit (what an init pays, boot included).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { HANDLER_BUNDLING } from '../lib/constructs/handler-function.js';
import { median, round } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');
/** Inside the repository so the bundles resolve `@aws-sdk/*` from node_modules, as Lambda does from its runtime. */
const OUT_DIR = join(ROOT, '.bench', 'bundles');
const HELLO = 'hello-world';

export interface BundleResult {
  readonly name: string;
  readonly bytes: number;
  readonly importMs: number;
  readonly ownImportMs: number;
  readonly processMs: number;
}

export interface BundlesResult {
  readonly helloWorld: BundleResult;
  readonly functions: readonly BundleResult[];
  readonly runs: number;
}

/** The esbuild options CDK derives from `HANDLER_BUNDLING` (format, target, minify, fields, banner, externals). */
function esbuildOptions(): BuildOptions {
  const b = HANDLER_BUNDLING;
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: b.target,
    minify: b.minify,
    sourcemap: b.sourceMap ? 'external' : false,
    mainFields: b.mainFields,
    external: b.externalModules,
    banner: b.banner === undefined ? undefined : { js: b.banner },
    logLevel: 'error',
  };
}

async function bundle(name: string, entry: string | { contents: string }): Promise<string> {
  const outfile = join(OUT_DIR, name, 'index.mjs');
  await build({
    ...esbuildOptions(),
    outfile,
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, loader: 'ts', resolveDir: ROOT } }),
  });
  return outfile;
}

/** The AWS SDK v3 packages the bundles leave external (the Lambda runtime provides them). */
const SDK = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-secrets-manager'];

interface ColdStart {
  /** Importing the bundle, external SDK packages included. */
  readonly importMs: number;
  /** Importing the bundle once the SDK packages are loaded: the bundle's own code. */
  readonly ownImportMs: number;
  /** Spawn to exit of a process that does the first. */
  readonly processMs: number;
}

/** Fresh processes importing `file`: once as is, once after the SDK packages. */
function coldStart(file: string): ColdStart {
  const href = JSON.stringify(pathToFileURL(file).href);
  const run = (script: string): { stdout: string; ms: number } => {
    const started = process.hrtime.bigint();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (child.status !== 0) throw new Error(`importing ${file} failed: ${child.stderr}`);
    return { stdout: child.stdout, ms };
  };
  const whole = run(
    `const t=performance.now();await import(${href});process.stdout.write(String(performance.now()-t));`,
  );
  const own = run(
    `${SDK.map((m) => `await import(${JSON.stringify(m)});`).join('')}` +
      `const t=performance.now();await import(${href});process.stdout.write(String(performance.now()-t));`,
  );
  return { importMs: Number(whole.stdout), ownImportMs: Number(own.stdout), processMs: whole.ms };
}

/** Bundles every handler and the hello world, then measures `runs` cold imports of each. */
export async function benchBundles(runs: number): Promise<BundlesResult> {
  await rm(OUT_DIR, { recursive: true, force: true });
  await mkdir(OUT_DIR, { recursive: true });
  const handlersDir = join(ROOT, 'lambdas', 'handlers');
  const names = (await readdir(handlersDir)).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  const files = new Map<string, string>();
  files.set(
    HELLO,
    await bundle(HELLO, { contents: "export const handler = async () => ({ statusCode: 200, body: 'hello' });" }),
  );
  for (const name of names.sort()) files.set(name, await bundle(name, join(handlersDir, `${name}.ts`)));

  const times = new Map<string, ColdStart[]>();
  for (let i = 0; i < runs; i += 1) {
    for (const [name, file] of files) times.set(name, [...(times.get(name) ?? []), coldStart(file)]);
  }
  const results: BundleResult[] = [];
  for (const [name, file] of files) {
    const t = times.get(name) ?? [];
    const mid = (key: keyof ColdStart) => round(median(t.map((c) => c[key])), 1);
    results.push({
      name,
      bytes: (await stat(file)).size,
      importMs: mid('importMs'),
      ownImportMs: mid('ownImportMs'),
      processMs: mid('processMs'),
    });
  }
  const [helloWorld, ...functions] = results as [BundleResult, ...BundleResult[]];
  return { helloWorld, functions, runs };
}
