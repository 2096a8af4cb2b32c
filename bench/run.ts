/**
 * `npm run bench`: every benchmark in one run, written to bench/results.json and printed as
 * tables with each target met or missed. Timings are reported, never passed or failed.
 *
 * Knobs (environment): BENCH_ITERATIONS (chain rounds, default 3000), BENCH_DURATION (seconds per
 * load run, default 10; the comparison with the DynamoDB peer runs each side that long in each of
 * its two interleaved rounds), BENCH_COLD_RUNS (fresh processes per bundle, default 7).
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { benchBundles } from './bundles.js';
import { benchCalls } from './calls.js';
import { loadConfig } from '../lambdas/lib/config.js';
import { benchChain } from './chain.js';
import { benchCompare } from './compare.js';
import { benchE2e } from './e2e.js';
import { round, table, verdict } from './stats.js';

/** The default number of deployment budget shards, for the report. */
const DEFAULT_SHARDS = loadConfig({}).budget.deploymentShards;

const number = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
};

const TARGETS = {
  chainOverheadVsPeer: 1.0,
  secretsManagerCallsPerWarmRequest: 0,
  chatRoundTrips: 3,
  bundleBytes: 300 * 1000,
  coldStartVsHelloWorld: 2.0,
  rpsVsDynamoPeer: 1.5,
};

const say = (text: string) => process.stdout.write(`${text}\n`);
const step = (text: string) => process.stderr.write(`bench: ${text}\n`);

async function main(): Promise<void> {
  const iterations = number('BENCH_ITERATIONS', 3000);
  const duration = number('BENCH_DURATION', 10);
  const coldRuns = number('BENCH_COLD_RUNS', 7);

  step(`chain overhead (${iterations} rounds)`);
  const chain = await benchChain(iterations);
  step('DynamoDB and Secrets Manager calls');
  const calls = await benchCalls(3);
  step(`bundles and cold starts (${coldRuns} runs each)`);
  const bundles = await benchBundles(coldRuns);
  step(`local end to end (${duration} s per concurrency)`);
  const e2e = await benchE2e([1, 16, 64], duration);
  step(`ours vs the Express peer on one DynamoDB Local (2 interleaved rounds of ${duration} s per side)`);
  const compare = await benchCompare(16, duration, 2);

  const chatDepth = Math.max(...calls.perRequest.filter((r) => r.request.includes('/v1/chat')).map((r) => r.depth));
  const largest = Math.max(...bundles.functions.map((f) => f.bytes));
  const slowestProcess = Math.max(...bundles.functions.map((f) => f.processMs));
  const slowestImport = Math.max(...bundles.functions.map((f) => f.importMs));
  const coldRatio = round(slowestProcess / bundles.helloWorld.processMs, 2);
  const overhead = chain.ratios.overheadVsPeerOverhead;
  const targets = {
    chainOverheadVsPeer: {
      target: `≤ ${TARGETS.chainOverheadVsPeer}× (p50 and p99)`,
      value: `${overhead.p50}× / ${overhead.p99}×`,
      result: verdict(Math.max(overhead.p50, overhead.p99) <= TARGETS.chainOverheadVsPeer),
    },
    secretsManagerCallsPerWarmRequest: {
      target: `${TARGETS.secretsManagerCallsPerWarmRequest}`,
      value: `${calls.secretsManagerPerWarmRequest}`,
      result: verdict(calls.secretsManagerPerWarmRequest === TARGETS.secretsManagerCallsPerWarmRequest),
    },
    chatRoundTrips: {
      target: `≤ ${TARGETS.chatRoundTrips}`,
      value: `${chatDepth}`,
      result: verdict(chatDepth <= TARGETS.chatRoundTrips),
    },
    bundleBytes: {
      target: `≤ ${TARGETS.bundleBytes / 1000} KB`,
      value: `${round(largest / 1000, 1)} KB`,
      result: verdict(largest <= TARGETS.bundleBytes),
    },
    coldStartVsHelloWorld: {
      target: `≤ ${TARGETS.coldStartVsHelloWorld}×`,
      value: `${coldRatio}× (process); ${round(slowestImport / bundles.helloWorld.importMs, 1)}× (import alone)`,
      result: verdict(coldRatio <= TARGETS.coldStartVsHelloWorld),
    },
    rpsVsDynamoPeer: {
      target: `≥ ${TARGETS.rpsVsDynamoPeer}× (budgets and guardrails on)`,
      value: `${compare.rpsRatio}×`,
      result: verdict(compare.rpsRatio >= TARGETS.rpsVsDynamoPeer),
    },
  };

  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout: the results still stand, without a commit.
  }
  const results = {
    at: new Date().toISOString(),
    commit,
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverage: loadavg().map((l) => round(l, 2)),
    },
    targets,
    chain,
    calls,
    bundles,
    e2e,
    compare,
  };
  await writeFile(join(import.meta.dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

  const us = (v: { p50: number; p99: number }) => `${v.p50} / ${v.p99}`;
  say(`\nSecurity chain, µs per request p50 / p99 (${chain.iterations} requests each, interleaved):`);
  say(
    table(
      ['variant', 'p50 / p99 µs'],
      Object.entries(chain.latencyUs).map(([name, v]) => [name, us(v)]),
    ),
  );
  say(
    `ratios p50 / p99: chain vs bare handler ${us(chain.ratios.chainVsBare)}; chain vs Express peer ${us(chain.ratios.chainVsPeer)}; ` +
      `chain overhead vs peer overhead ${us(chain.ratios.overheadVsPeerOverhead)}`,
  );
  say(`\nLocal end to end, POST /v1/chat, echo model, ${e2e.engine}, ${e2e.durationSeconds} s each:`);
  say(
    table(
      ['connections', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'errors'],
      e2e.runs.map((r) => [r.connections, r.requestsPerSecond, r.p50Ms, r.p99Ms, r.requests, r.non2xx, r.errors]),
    ),
  );
  say(
    `\nPOST /v1/chat with key, token and Origin, ${compare.connections} connections, ${compare.engine} shared by both, ` +
      `${compare.rounds} interleaved rounds of ${compare.secondsPerRound} s per side (ours: budgets and local guardrail on):`,
  );
  say(
    table(
      ['server', 'req/s', 'CPU ms per turn', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'errors'],
      (
        [
          ['ours', compare.ours],
          ['Express peer (rate-limiter-flexible DynamoDB)', compare.peer],
        ] as const
      ).map(([name, r]) => [
        name,
        r.requestsPerSecond,
        r.cpuMsPerTurn ?? 'n/a',
        r.p50Ms,
        r.p99Ms,
        r.requests,
        r.non2xx,
        r.errors,
      ]),
    ),
  );
  say(`ratios ours / peer: ${compare.rpsRatio}× req/s, ${compare.cpuRatio ?? 'n/a'}× CPU per turn`);
  say('\nTime to first streamed token, POST /v1/chat/stream, echo model (ours):');
  say(
    table(
      ['concurrency', 'streams', 'p50 ms', 'p99 ms'],
      compare.ttft.map((t) => [t.concurrency, t.streams, t.p50Ms, t.p99Ms]),
    ),
  );
  say(`\nBundles (esbuild, HandlerFunction options) and cold start, medians of ${bundles.runs} fresh processes:`);
  say(
    table(
      ['function', 'KB', 'import ms', 'own import ms', 'process ms'],
      [bundles.helloWorld, ...bundles.functions].map((f) => [
        f.name,
        round(f.bytes / 1000, 1),
        f.importMs,
        f.ownImportMs,
        f.processMs,
      ]),
    ),
  );
  say('\nDynamoDB calls per request (warm), sequential depth in waves:');
  say(
    table(
      ['request', 'calls', 'depth', 'waves'],
      calls.perRequest.map((r) => [r.request, r.calls, r.depth, r.waves.join(' → ')]),
    ),
  );
  say(
    "\nBudgets on (design §12): the reservations (one UpdateItem per scope) share the rate limits' first wave, " +
      "the settlements the answer's PutItem; chats keep their waves and gain 6 calls. Deployment budget: " +
      `${DEFAULT_SHARDS} shards capped at floor(budget / ${DEFAULT_SHARDS}): reservations never pass it (overshoot 0; ` +
      'only usage a provider reports beyond a reservation can), and at most shards × (reservation − 1) tokens ' +
      'can be left unusable when every tried shard is nearly full. See README "Cost protection".',
  );
  say(
    `\nSecrets Manager calls: ${calls.secretsManagerCold} on the cold request, ` +
      `${calls.secretsManagerPerWarmRequest} per warm request (${calls.warmRequests} warm requests)`,
  );
  say('\nTargets:');
  say(
    table(
      ['target', 'goal', 'measured', 'result'],
      Object.entries(targets).map(([name, t]) => [name, t.target, t.value, t.result]),
    ),
  );
  say(
    `\nWritten to bench/results.json (node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(2)})`,
  );
}

await main();
