/**
 * Security-chain overhead: the full Middy chain of `POST /v1/chat` around a no-op handler, the
 * bare handler, the Express peer (bench/express-peer.ts) and a bare Express route, all in one
 * process, on the same requests, interleaved in random order so drift (GC, CPU frequency, the
 * neighbours on this machine) spreads evenly over the four.
 *
 * The Middy chain runs on a runtime of in-memory stores (the unit tests' fake runtime), as the
 * Express peer runs on its memory stores. It receives API Gateway events (the HTTP parsing is API
 * Gateway's); the Express apps get requests injected in-process (light-my-request), so their
 * times include Node's request/response objects. That is why overhead is also compared net of
 * each stack's bare route: chain − bare handler against peer − bare Express.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import jwt from 'jsonwebtoken';
import { inject } from 'light-my-request';
import { defineHandler, type LambdaHandler } from '../lambdas/http/handler.js';
import { json } from '../lambdas/http/responses.js';
import { chatRequestSchema } from '../lambdas/lib/schemas.js';
import { apiEvent, FakeClock, fakeRuntime } from '../test/helpers/fake-runtime.js';
import { bareExpress, expressPeer } from './express-peer.js';
import { percentile, round, shuffled } from './stats.js';

const ORIGIN = 'https://app.example.com';
const GENEROUS = 1_000_000;
const WINDOW_MS = 60_000;

/** One request, as both stacks receive it. */
interface Probe {
  readonly event: APIGatewayProxyEvent;
  readonly inject: {
    method: 'POST';
    url: string;
    headers: Record<string, string>;
    payload: string;
    remoteAddress: string;
  };
}

type Variant = 'bare handler' | 'middy chain' | 'bare express' | 'express peer';
const VARIANTS: readonly Variant[] = ['bare handler', 'middy chain', 'bare express', 'express peer'];

/** Per-variant latency percentiles in microseconds. */
export interface ChainResult {
  readonly iterations: number;
  readonly requests: string;
  readonly latencyUs: Record<Variant, { p50: number; p99: number }>;
  readonly ratios: {
    /** Middy chain against the bare handler. */
    readonly chainVsBare: { p50: number; p99: number };
    /** Middy chain against the Express peer, end to end. */
    readonly chainVsPeer: { p50: number; p99: number };
    /** (chain − bare handler) against (peer − bare Express): what each stack adds. */
    readonly overheadVsPeerOverhead: { p50: number; p99: number };
  };
}

const context = (): Context =>
  ({ functionName: 'bench', awsRequestId: 'bench', callbackWaitsForEmptyEventLoop: false }) as unknown as Context;

/** Runs the chain benchmark for `iterations` rounds over every probe. */
export async function benchChain(iterations: number): Promise<ChainResult> {
  const clock = new FakeClock(Date.now());
  const limits = {
    RATE_LIMIT_MAX_REQUESTS: String(GENEROUS),
    RATE_LIMIT_SESSION_MAX: String(GENEROUS),
    RATE_LIMIT_USER_MAX: String(GENEROUS),
    AUTH_FAILURE_LIMIT: String(GENEROUS),
    RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
  };
  const fake = fakeRuntime({ clock, env: { CORS_ORIGIN: ORIGIN, ...limits } });
  const { config } = fake.runtime;
  const ok = () => json(200, { ok: true });
  const chain = defineHandler({ auth: 'widget', body: chatRequestSchema }, async () => ok()).build(fake.runtime);
  const bare: LambdaHandler = async () => ok();
  const peer = expressPeer({
    widgetKey: fake.keys.widget,
    signingSecret: fake.keys.signing,
    allowedOrigins: [ORIGIN],
    maxBodyBytes: config.maxBodyBytes,
    limit: GENEROUS,
    windowMs: WINDOW_MS,
    maxTokenTtlSeconds: config.widgetTokenMaxTtlSeconds,
  });
  const bareApp = bareExpress();

  const iat = Math.floor(clock.now() / 1000);
  const token = jwt.sign({ sub: 'user-1', jti: 'bench-jti', iat, exp: iat + 3600 }, fake.keys.signing, {
    algorithm: 'HS256',
  });
  // Four clients, two with a widget token: every request carries the key, an Origin and a body.
  const probes: Probe[] = [0, 1, 2, 3].map((i) => {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-widget-api-key': fake.keys.widget,
      origin: ORIGIN,
      ...(i % 2 === 0 ? { authorization: `Bearer ${token}` } : {}),
    };
    const payload = JSON.stringify({ sessionId: `bench-session-${i}`, message: 'How do I reset my password?' });
    const sourceIp = `198.51.100.${i + 1}`;
    return {
      event: apiEvent({ method: 'POST', path: '/v1/chat', headers, body: payload, sourceIp }),
      inject: { method: 'POST', url: '/v1/chat', headers, payload, remoteAddress: sourceIp },
    };
  });

  const run: Record<Variant, (probe: Probe) => Promise<number>> = {
    'bare handler': async (p) => (await bare(p.event, context())).statusCode,
    'middy chain': async (p) => (await chain(p.event, context())).statusCode,
    'bare express': async (p) => (await inject(bareApp, p.inject)).statusCode,
    'express peer': async (p) => (await inject(peer, p.inject)).statusCode,
  };
  const samples: Record<Variant, number[]> = {
    'bare handler': [],
    'middy chain': [],
    'bare express': [],
    'express peer': [],
  };

  const round_ = async (record: boolean) => {
    for (const probe of probes) {
      for (const variant of shuffled(VARIANTS)) {
        const started = process.hrtime.bigint();
        const status = await run[variant](probe);
        const elapsed = Number(process.hrtime.bigint() - started) / 1000;
        if (status !== 200) throw new Error(`${variant} answered ${status}: the benchmark would measure an error path`);
        if (record) samples[variant].push(elapsed);
      }
    }
  };
  const warmup = Math.min(2000, Math.ceil(iterations / 4));
  for (let i = 0; i < warmup; i += 1) await round_(false);
  for (let i = 0; i < iterations; i += 1) await round_(true);

  const at = (variant: Variant) => ({
    p50: round(percentile(samples[variant], 50), 1),
    p99: round(percentile(samples[variant], 99), 1),
  });
  const latencyUs = Object.fromEntries(VARIANTS.map((v) => [v, at(v)])) as ChainResult['latencyUs'];
  const ratio = (a: number, b: number) => round(a / b, 2);
  const both = (f: (p: 'p50' | 'p99') => number) => ({ p50: f('p50'), p99: f('p99') });
  return {
    iterations: iterations * probes.length,
    requests: 'POST /v1/chat with key, Origin and JSON body; half with a widget token; 4 client IPs and sessions',
    latencyUs,
    ratios: {
      chainVsBare: both((p) => ratio(latencyUs['middy chain'][p], latencyUs['bare handler'][p])),
      chainVsPeer: both((p) => ratio(latencyUs['middy chain'][p], latencyUs['express peer'][p])),
      overheadVsPeerOverhead: both((p) =>
        ratio(
          latencyUs['middy chain'][p] - latencyUs['bare handler'][p],
          latencyUs['express peer'][p] - latencyUs['bare express'][p],
        ),
      ),
    },
  };
}
