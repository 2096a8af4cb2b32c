/**
 * `npm run verify` against the target (`npm start`, or `start:synth` in the synth project): every
 * check passes on a healthy stack, and the same script fails loudly when a key is wrong.
 */
import { spawn } from 'node:child_process';
import { startTarget, type RunningServer } from '../helpers/local-server.js';

const ORIGIN = 'https://app.example.com';

/** Runs the script as an operator would; resolves with its exit code and lines. */
async function runVerify(args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/verify.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, lines: out.split('\n').filter((line) => line !== '') };
}

describe('npm run verify', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTarget({ CORS_ORIGIN: ORIGIN });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('should pass every check, token round trip included, and say so in its summary', async () => {
    // Act
    const { code, lines } = await runVerify([
      server.url,
      '--widget-key',
      server.secrets.widgetKey,
      '--server-key',
      server.secrets.serverKey,
      '--origin',
      ORIGIN,
    ]);

    // Assess
    expect(lines.filter((line) => !line.startsWith('PASS') && !line.startsWith('verify:'))).toEqual([]);
    expect(lines).toEqual(
      expect.arrayContaining([
        'PASS health answers 200 {"status":"ok"}',
        'PASS CORS refuses a foreign origin (preflight and request)',
        'PASS a wrong widget key is refused (401)',
        'PASS token round trip: history (GET /v1/sessions/{id}/messages)',
        'PASS token round trip: the revoked token is refused (401)',
        'PASS no stack trace or internal name in any answer',
      ]),
    );
    expect(lines.at(-1)).toMatch(/^verify: \d+ passed, 0 failed against /);
    expect(code).toBe(0);
  });

  it.each<[string, (s: RunningServer) => string[], RegExp]>([
    [
      // base64url keys may start with `-`: the script must read it as the value, not an option.
      'a wrong widget key that starts with a dash',
      (s) => [s.url, '--widget-key', `-${'x'.repeat(42)}`, '--server-key', s.secrets.serverKey],
      /^FAIL token round trip: chat/,
    ],
    [
      'a wrong server key',
      (s) => [s.url, '--widget-key', s.secrets.widgetKey, '--server-key', 'y'.repeat(43)],
      /^FAIL token round trip: mint/,
    ],
    [
      'an origin the stack does not allow',
      (s) => [s.url, '--origin', 'https://not-allowed.example.org'],
      /^FAIL CORS allows/,
    ],
  ])('should fail and exit 1 with %s', async (_name, args, failure) => {
    // Act
    const { code, lines } = await runVerify(args(server));

    // Assess
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(failure)]));
    expect(lines.at(-1)).toMatch(/^verify: \d+ passed, [1-9]\d* failed against /);
    expect(code).toBe(1);
  });

  it('should refuse to run without a URL (exit 2)', async () => {
    // Act
    const { code, lines } = await runVerify([]);

    // Assess
    expect(code).toBe(2);
    expect(lines[0]).toMatch(/^usage: npm run verify -- <api-url>/);
  });
});
