/**
 * Local end to end: `POST /v1/chat` with the echo model against `npm start`'s server (a child
 * process, DynamoDB Local in memory when Java is present, else dynalite), with autocannon at
 * several concurrencies. Each connection is one widget with its own session. Rate limits are
 * raised out of the way (the test suite's generous limits): this measures the path, not the 429s.
 */
import autocannon from 'autocannon';
import { startServer } from '../test/helpers/local-server.js';
import { round } from './stats.js';

export interface LoadResult {
  readonly connections: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Responses other than 2xx, and connection errors or timeouts: both should be 0. */
  readonly non2xx: number;
  readonly errors: number;
}

export interface E2eResult {
  readonly durationSeconds: number;
  readonly engine: string;
  readonly runs: readonly LoadResult[];
}

const MESSAGE = 'How do I reset my password?';

async function load(url: string, widgetKey: string, connections: number, duration: number): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/v1/chat',
        headers: { 'content-type': 'application/json', 'x-widget-api-key': widgetKey },
        // The context is per connection: each connection keeps its own session.
        setupRequest: (request, context: { sessionId?: string }) => {
          context.sessionId ??= `bench-${connections}-${(next += 1)}-${Date.now()}`;
          return { ...request, body: JSON.stringify({ sessionId: context.sessionId, message: MESSAGE }) };
        },
      },
    ],
  });
}

/** Runs the load at each of `concurrencies` for `duration` seconds, after a short warm-up. */
export async function benchE2e(concurrencies: readonly number[], duration: number): Promise<E2eResult> {
  const server = await startServer();
  try {
    const engine = /DynamoDB: ([^\n;]+)/.exec(server.output())?.[1] ?? 'unknown';
    await load(server.url, server.secrets.widgetKey, 8, Math.min(3, duration));
    const runs: LoadResult[] = [];
    for (const connections of concurrencies) {
      const result = await load(server.url, server.secrets.widgetKey, connections, duration);
      runs.push({
        connections,
        requestsPerSecond: round(result.requests.average, 1),
        p50Ms: round(result.latency.p50, 1),
        p99Ms: round(result.latency.p99, 1),
        requests: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
      });
    }
    return { durationSeconds: duration, engine, runs };
  } finally {
    await server.stop();
  }
}
