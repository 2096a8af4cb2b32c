/**
 * Ours against the like-for-like Express peer (bench/dynamo-peer.ts) on ONE DynamoDB Local engine:
 * `POST /v1/chat` with key, token and Origin, `connections` connections (each one user with its
 * own session), in interleaved rounds (ours, peer, then peer, ours, …) so load on the machine hits
 * both alike. Ours runs with budgets and guardrails on (the defaults: local guardrail), limits and
 * budgets raised out of the way. Reports requests per second and server CPU per chat turn (the
 * server process's user + system time, from /proc), and the time to the first streamed token of
 * `POST /v1/chat/stream` over the echo model at concurrency 1 and 16. A benchmark: nothing here passes or fails.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import jwt from 'jsonwebtoken';
import { startDynamoDb } from '../local/dynamodb.js';
import { startServer, type RunningServer } from '../test/helpers/local-server.js';
import { median, percentile, round } from './stats.js';

const ORIGIN = 'https://shop.example.com';
const MESSAGE = 'How do I reset my password?';
/** Linux reports process CPU in clock ticks of 1/100 s. */
const TICK_MS = 10;

export interface SideResult {
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly requestsPerSecond: number;
  /** Server process CPU (user + system) per 2xx chat turn, ms; undefined where /proc is absent. */
  readonly cpuMsPerTurn: number | undefined;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface TtftResult {
  readonly concurrency: number;
  readonly streams: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface CompareResult {
  readonly engine: string;
  readonly connections: number;
  readonly rounds: number;
  readonly secondsPerRound: number;
  readonly ours: SideResult;
  readonly peer: SideResult;
  readonly rpsRatio: number;
  readonly cpuRatio: number | undefined;
  readonly ttft: readonly TtftResult[];
}

/** CPU time of process `pid` so far, ms (utime + stime of /proc/<pid>/stat). */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

interface Target {
  readonly name: 'ours' | 'peer';
  readonly url: string;
  readonly pid: number | undefined;
  readonly widgetKey: string;
  readonly signingSecret: string;
}

const tokenFor = (target: Target, userId: string) =>
  jwt.sign({ userId }, target.signingSecret, { algorithm: 'HS256', expiresIn: '1h' });

async function load(target: Target, connections: number, duration: number, tag: string): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url: target.url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/v1/chat',
        headers: { 'content-type': 'application/json', 'x-widget-api-key': target.widgetKey, origin: ORIGIN },
        // Each connection is one signed-in user with one session of its own.
        setupRequest: (req, context: { sessionId?: string; token?: string }) => {
          if (context.sessionId === undefined) {
            next += 1;
            context.sessionId = `cmp-${tag}-${next}-${Date.now()}`;
            context.token = tokenFor(target, `user-${tag}-${next}`);
          }
          return {
            ...req,
            headers: { ...req.headers, authorization: `Bearer ${context.token}` },
            body: JSON.stringify({ sessionId: context.sessionId, message: MESSAGE }),
          };
        },
      },
    ],
  });
}

/** Milliseconds from sending `POST /v1/chat/stream` to the first `token` event. */
function firstToken(target: Target, agent: Agent, token: string, sessionId: string): Promise<number> {
  const body = JSON.stringify({ sessionId, message: MESSAGE });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      `${target.url}/v1/chat/stream`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-widget-api-key': target.widgetKey,
          authorization: `Bearer ${token}`,
          origin: ORIGIN,
        },
      },
      (res) => {
        let seen = '';
        let at: number | undefined;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (at !== undefined) return;
          seen += chunk;
          if (seen.includes('"type":"token"')) at = performance.now() - started;
        });
        res.on('end', () =>
          at === undefined ? reject(new Error(`no token event (status ${res.statusCode})`)) : resolve(at),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `concurrency` readers, each opening `perReader` streams one after the other. */
async function ttft(target: Target, concurrency: number, perReader: number): Promise<TtftResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const times: number[] = [];
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async (_, reader) => {
        const token = tokenFor(target, `ttft-${concurrency}-${reader}`);
        const sessionId = `ttft-${concurrency}-${reader}-${Date.now()}`;
        for (let i = 0; i < perReader; i += 1) times.push(await firstToken(target, agent, token, sessionId));
      }),
    );
  } finally {
    agent.destroy();
  }
  return {
    concurrency,
    streams: times.length,
    p50Ms: round(median(times), 1),
    p99Ms: round(percentile(times, 99), 1),
  };
}

async function waitHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${url}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} not healthy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function startPeer(endpoint: string, widgetKey: string, signingSecret: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'dynamo-peer.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PEER_ENDPOINT: endpoint,
      PEER_WIDGET_KEY: widgetKey,
      PEER_SIGNING_SECRET: signingSecret,
      PEER_ORIGIN: ORIGIN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (found) resolve(found);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`peer exited (${code}): ${output}`)));
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  return { url, pid: child.pid, stop };
}

interface Tally {
  requests: number;
  non2xx: number;
  errors: number;
  seconds: number;
  cpuMs: number | undefined;
  latencies: { p50: number; p99: number }[];
}

const summary = (t: Tally): SideResult => ({
  requests: t.requests,
  non2xx: t.non2xx,
  errors: t.errors,
  requestsPerSecond: round((t.requests - t.non2xx) / t.seconds, 1),
  cpuMsPerTurn: t.cpuMs === undefined ? undefined : round(t.cpuMs / Math.max(1, t.requests - t.non2xx), 2),
  p50Ms: round(median(t.latencies.map((l) => l.p50)), 1),
  p99Ms: round(median(t.latencies.map((l) => l.p99)), 1),
});

/** Runs `rounds` interleaved rounds of `seconds` per side at `connections`, then the time to first token. */
export async function benchCompare(connections: number, seconds: number, rounds: number): Promise<CompareResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chat-widget-bench-'));
  const db = await startDynamoDb('memory', dataDir);
  let server: RunningServer | undefined;
  let peer: Awaited<ReturnType<typeof startPeer>> | undefined;
  try {
    server = await startServer({ DYNAMODB_ENDPOINT: db.endpoint, CORS_ORIGIN: ORIGIN, LLM_PROVIDER: 'echo' });
    await waitHealthy(server.url);
    peer = await startPeer(db.endpoint, server.secrets.widgetKey, server.secrets.signingSecret);
    const targets: Record<'ours' | 'peer', Target> = {
      ours: {
        name: 'ours',
        url: server.url,
        pid: server.process.pid,
        widgetKey: server.secrets.widgetKey,
        signingSecret: server.secrets.signingSecret,
      },
      peer: {
        name: 'peer',
        url: peer.url,
        pid: peer.pid,
        widgetKey: server.secrets.widgetKey,
        signingSecret: server.secrets.signingSecret,
      },
    };
    for (const target of Object.values(targets)) await load(target, connections, 2, `warm-${target.name}`);
    const tallies: Record<'ours' | 'peer', Tally> = {
      ours: { requests: 0, non2xx: 0, errors: 0, seconds: 0, cpuMs: 0, latencies: [] },
      peer: { requests: 0, non2xx: 0, errors: 0, seconds: 0, cpuMs: 0, latencies: [] },
    };
    for (let round = 0; round < rounds; round += 1) {
      const order: ('ours' | 'peer')[] = round % 2 === 0 ? ['ours', 'peer'] : ['peer', 'ours'];
      for (const side of order) {
        const target = targets[side];
        const tally = tallies[side];
        const before = cpuMs(target.pid);
        const result = await load(target, connections, seconds, `${side}-${round}`);
        const after = cpuMs(target.pid);
        tally.requests += result.requests.total;
        tally.non2xx += result.non2xx;
        tally.errors += result.errors + result.timeouts;
        tally.seconds += result.duration;
        tally.cpuMs =
          tally.cpuMs === undefined || before === undefined || after === undefined
            ? undefined
            : tally.cpuMs + after - before;
        tally.latencies.push({ p50: result.latency.p50, p99: result.latency.p99 });
      }
    }
    const ours = summary(tallies.ours);
    const other = summary(tallies.peer);
    const ttftRuns = [await ttft(targets.ours, 1, 30), await ttft(targets.ours, 16, 8)];
    return {
      engine: db.engine,
      connections,
      rounds,
      secondsPerRound: seconds,
      ours,
      peer: other,
      rpsRatio: round(ours.requestsPerSecond / Math.max(0.1, other.requestsPerSecond), 2),
      cpuRatio:
        ours.cpuMsPerTurn === undefined || other.cpuMsPerTurn === undefined
          ? undefined
          : round(ours.cpuMsPerTurn / Math.max(0.01, other.cpuMsPerTurn), 2),
      ttft: ttftRuns,
    };
  } finally {
    await peer?.stop();
    await server?.stop();
    await db.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
