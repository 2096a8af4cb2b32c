/**
 * Bundles the widget (`widget/src`) into one minified browser script with esbuild. The local
 * server and the CDK construct call `bundleWidget`/`bundleWidgetSync`; `npm run build:widget`
 * writes it to `widget/dist/widget.js`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, buildSync, type BuildOptions } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Where `npm run build:widget` writes the bundle. */
export const WIDGET_OUTFILE = resolve(here, 'dist', 'widget.js');

const OPTIONS = {
  entryPoints: [resolve(here, 'src', 'index.ts')],
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  // The browsers of 2020 on: Shadow DOM, ReadableStream bodies, AbortController, async iteration.
  target: 'es2020',
  legalComments: 'none',
  charset: 'utf8',
  write: false,
  logLevel: 'silent',
} satisfies BuildOptions;

function text(result: { outputFiles?: { text: string }[] }): string {
  const file = result.outputFiles?.[0];
  if (!file) throw new Error('esbuild produced no widget bundle');
  return file.text;
}

/** The widget bundle's source text. */
export async function bundleWidget(): Promise<string> {
  return text(await build(OPTIONS));
}

/** The widget bundle's source text, built synchronously (for CDK synth). */
export function bundleWidgetSync(): string {
  return text(buildSync(OPTIONS));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const code = await bundleWidget();
  mkdirSync(dirname(WIDGET_OUTFILE), { recursive: true });
  writeFileSync(WIDGET_OUTFILE, code);
  process.stdout.write(`${WIDGET_OUTFILE} (${code.length} bytes)\n`);
}
