/**
 * Dependencies point down (style habit 13): handlers → the HTTP layer (`lambdas/http`) → the
 * domain and its ports (`lambdas/lib`) → adapters (`lambdas/lib/{stores,llm,webhooks,secrets}`).
 * This scan reads every relative import and fails on one that runs back up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const LAYERS = ['lambdas/handlers', 'lambdas/http', 'lambdas/lib'] as const;
type Layer = (typeof LAYERS)[number];
const RANK: Record<Layer, number> = { 'lambdas/handlers': 0, 'lambdas/http': 1, 'lambdas/lib': 2 };
const IMPORT = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

function layerOf(path: string): Layer | undefined {
  return LAYERS.find((layer) => path === layer || path.startsWith(`${layer}/`));
}

/** Every (file, imported file) pair under `lambdas/` whose target sits in a higher layer. */
function upwardImports(): string[] {
  const found: string[] = [];
  for (const file of sources('lambdas')) {
    const from = layerOf(file);
    if (from === undefined) continue;
    for (const [, specifier] of readFileSync(join(ROOT, file), 'utf8').matchAll(IMPORT)) {
      const target = relative(ROOT, resolve(ROOT, dirname(file), specifier!));
      const to = layerOf(target);
      if (to !== undefined && RANK[to] < RANK[from]) found.push(`${file} → ${target}`);
    }
  }
  return found;
}

/** Adapter folders of `lambdas/lib` whose ports live in the domain; only the wiring (`runtime.ts`) names them. */
const ADAPTERS = ['lambdas/lib/stores', 'lambdas/lib/secrets', 'lambdas/lib/webhooks'] as const;
/** `llm/` holds the `ModelProvider` port beside its adapters: the domain may import it, and its adapters these. */
const ALSO_ADAPTERS = [...ADAPTERS, 'lambdas/lib/llm'];
const WIRING = 'lambdas/lib/runtime.ts';

const isUnder = (path: string, folder: string): boolean => path.startsWith(`${folder}/`);

/** Every (file, imported file) pair where a domain file of `lambdas/lib` imports an adapter. */
function domainImportsOfAdapters(): string[] {
  const found: string[] = [];
  for (const file of sources('lambdas/lib')) {
    if (file === WIRING || ALSO_ADAPTERS.some((folder) => isUnder(file, folder))) continue;
    for (const [, specifier] of readFileSync(join(ROOT, file), 'utf8').matchAll(IMPORT)) {
      const target = relative(ROOT, resolve(ROOT, dirname(file), specifier!));
      if (ADAPTERS.some((folder) => isUnder(target, folder))) found.push(`${file} → ${target}`);
    }
  }
  return found;
}

describe('layering of lambdas/', () => {
  it('should find the source files it checks in every layer', () => {
    for (const layer of LAYERS) expect(sources(layer).length).toBeGreaterThan(0);
  });

  it('should have no import from a lower layer into a higher one', () => {
    expect(upwardImports()).toEqual([]);
  });

  it('should have no domain file that imports a store, secret source or webhook adapter (ports live in the domain)', () => {
    expect(domainImportsOfAdapters()).toEqual([]);
  });

  it('should flag an upward import when one is written (the scan itself works)', () => {
    const line = "import type { RequestState } from '../http/request.js';";
    const [[, specifier]] = [...line.matchAll(IMPORT)] as [RegExpMatchArray];
    const target = relative(ROOT, resolve(ROOT, 'lambdas/lib', specifier!));
    expect(RANK[layerOf(target)!]).toBeLessThan(RANK['lambdas/lib']);
  });
});
