/**
 * Global setup of the `synth` Jest project: synthesizes the app once per run (reused while no
 * source changes) and hands the template to every suite as `SYNTH_TEMPLATE`. A child process,
 * because global setup runs outside Jest's module mapping.
 */
import { spawn } from 'node:child_process';

export default async function synthOnce(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/synth.ts'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`synth for the synth project failed:\n${err}`);
  process.env.SYNTH_TEMPLATE = out.trim().split('\n').pop();
}
