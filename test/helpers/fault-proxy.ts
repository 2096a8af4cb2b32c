/**
 * A loopback HTTP proxy in front of a DynamoDB endpoint that injects faults on demand: answer
 * `ProvisionedThroughputExceededException` (as DynamoDB does when throttling) or hold each call
 * for a while before forwarding it, for every operation or only some (`X-Amz-Target`).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** What the proxy does to the calls a fault applies to. */
export type Fault =
  | { readonly kind: 'none' }
  /** `bodyIncludes`: only calls whose request body contains this text (one kind of item). */
  | { readonly kind: 'throttle'; readonly operations?: readonly string[]; readonly bodyIncludes?: string }
  | { readonly kind: 'delay'; readonly ms: number; readonly operations?: readonly string[] };

export interface FaultProxy {
  readonly url: string;
  /** The fault in force; set it to change what happens to the next calls. */
  fault: Fault;
  /** Calls seen, by operation (`PutItem`, `UpdateItem`…), and how many of them got the fault. */
  readonly seen: Map<string, number>;
  readonly faulted: Map<string, number>;
  close(): Promise<void>;
}

const THROTTLED = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'The level of configured provisioned throughput for the table was exceeded.',
});

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/** Starts a proxy to `target` (an `http://127.0.0.1:port` endpoint) on a random loopback port. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const timers = new Set<NodeJS.Timeout>();
  const state = { fault: { kind: 'none' } as Fault };
  const seen = new Map<string, number>();
  const faulted = new Map<string, number>();

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const out = request(
      { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    out.end(body);
  };

  const server: Server = createServer((req, res) => {
    res.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
      bump(seen, operation);
      const fault = state.fault;
      const applies =
        fault.kind !== 'none' &&
        (fault.operations === undefined || fault.operations.includes(operation)) &&
        (fault.kind !== 'throttle' || fault.bodyIncludes === undefined || body.includes(fault.bodyIncludes));
      if (!applies) return forward(req, res, body);
      bump(faulted, operation);
      if (fault.kind === 'throttle') {
        res.writeHead(400, {
          'Content-Type': 'application/x-amz-json-1.0',
          'Content-Length': Buffer.byteLength(THROTTLED),
        });
        res.end(THROTTLED);
        return;
      }
      if (fault.kind === 'delay') {
        const timer = setTimeout(() => {
          timers.delete(timer);
          forward(req, res, body);
        }, fault.ms);
        timers.add(timer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    get fault() {
      return state.fault;
    },
    set fault(next: Fault) {
      state.fault = next;
    },
    seen,
    faulted,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
