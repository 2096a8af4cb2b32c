/**
 * What a visitor token costs (design §14), measured in process:
 * - the server: CPU (`process.cpuUsage`, user + system) per challenge and per mint through the
 *   whole security chain (key check, rate-limit tiers, solution check, single-use put, signing),
 *   over in-memory stores, so the figure is our code's and not the network's;
 * - a bot: native SHA-256 (`node:crypto`, one core) hashes per millisecond, so the CPU it spends
 *   per token at a given `VISITOR_POW_MAX_NUMBER` (half of it on average).
 * Run: `npx tsx bench/visitor-mint.ts [mints]`; writes `test-results/visitor-mint-cpu.json`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build as buildChallenge } from '../lambdas/handlers/visitor-challenge.js';
import { build as buildMint } from '../lambdas/handlers/mint-visitor-token.js';
import { fakeRuntime, invoke } from '../test/helpers/fake-runtime.js';

const MINTS = Number(process.argv[2] ?? 300);
const MAX_NUMBER = 100_000;
const ORIGIN = 'https://shop.example.com';

interface Challenge {
  algorithm: string;
  challenge: string;
  salt: string;
  signature: string;
}

/** Solves with native SHA-256, as a bot would; returns the number. */
function solveNative(c: Challenge): number {
  for (let n = 0; n <= MAX_NUMBER; n += 1) {
    if (
      createHash('sha256')
        .update(c.salt + n)
        .digest('hex') === c.challenge
    )
      return n;
  }
  throw new Error('unsolvable');
}

const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

const fake = fakeRuntime({
  env: {
    CORS_ORIGIN: ORIGIN,
    VISITOR_POW_MAX_NUMBER: String(MAX_NUMBER),
    VISITOR_TOKEN_RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_MAX_REQUESTS: '1000000',
  },
});
const challengeRoute = buildChallenge(fake.runtime);
const mintRoute = buildMint(fake.runtime);
const headers = { 'X-Widget-Api-Key': fake.keys.widget, Origin: ORIGIN };

// Warm up (secret cache, JIT), then the challenges.
await invoke(challengeRoute, { method: 'GET', path: '/v1/visitor-tokens/challenge', headers });
let usage = process.cpuUsage();
const challenges: Challenge[] = [];
for (let i = 0; i < MINTS; i += 1) {
  const res = await invoke(challengeRoute, { method: 'GET', path: '/v1/visitor-tokens/challenge', headers });
  challenges.push(res.json as Challenge);
}
const challengeCpuMs = cpuMs(process.cpuUsage(usage)) / MINTS;

// The bot's side: native hashing, timed apart from the server's.
const solveStarted = process.cpuUsage();
let hashes = 0;
const pows = challenges.map((c) => {
  const number = solveNative(c);
  hashes += number + 1;
  return Buffer.from(JSON.stringify({ ...c, number })).toString('base64');
});
const solveCpuMs = cpuMs(process.cpuUsage(solveStarted));
const hashesPerMs = hashes / solveCpuMs;

usage = process.cpuUsage();
let minted = 0;
for (const pow of pows) {
  const res = await invoke(mintRoute, {
    method: 'POST',
    path: '/v1/visitor-tokens',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ pow }),
  });
  if (res.statusCode === 201) minted += 1;
}
const mintCpuMs = cpuMs(process.cpuUsage(usage)) / MINTS;
if (minted !== MINTS) throw new Error(`only ${minted} of ${MINTS} mints succeeded`);

const result = {
  mints: MINTS,
  server: { cpuMsPerChallenge: +challengeCpuMs.toFixed(3), cpuMsPerMint: +mintCpuMs.toFixed(3) },
  bot: {
    nativeSha256HashesPerMs: Math.round(hashesPerMs),
    meanCpuMsPerTokenAt100000: +(MAX_NUMBER / 2 / hashesPerMs).toFixed(1),
  },
  node: process.version,
  measuredAt: new Date().toISOString(),
};
const dir = join(process.cwd(), 'test-results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'visitor-mint-cpu.json'), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);
