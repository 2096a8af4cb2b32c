/** A raw HTTP client for end-to-end tests: full control over methods, request-targets, headers and bytes. */
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { securityHeaderTable, type ErrorBody } from '../../lambdas/http/contract.js';
import { checkStreamEvent, responseProblem } from './openapi.js';

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: unknown;
}

export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer;
  /** Bind the client socket to this loopback address (a distinct client IP). */
  readonly localAddress?: string;
  /** Send this request-target as is, instead of the URL's (which a URL object would normalize). */
  readonly target?: string;
  /** Send over this agent (e.g. a keep-alive one). @default a new connection per request */
  readonly agent?: Agent;
}

/** `text` parsed as JSON, or undefined when it is not JSON. */
function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Sends one request and reads the whole response; rejects when the answer is not one
 * `docs/openapi.json` documents (`openapi.ts`), so every end-to-end test also checks the document.
 */
export function http(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const { hostname, port, pathname, search } = new URL(url);
    const req = httpRequest(
      {
        hostname,
        port,
        path: options.target ?? `${pathname}${search}`,
        method: options.method ?? 'GET',
        headers: options.headers,
        localAddress: options.localAddress,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const response = { status: res.statusCode ?? 0, headers: res.headers, text, json: jsonOf(text) };
          const problem = responseProblem(options.method ?? 'GET', options.target ?? `${pathname}${search}`, response);
          if (problem) reject(problem);
          else resolve(response);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A JSON POST. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResponse> {
  return http(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A loopback port that nothing listens on (bound, read, released): an unreachable dependency. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The contract's error body (design §3). */
export type { ErrorBody } from '../../lambdas/http/contract.js';

/** The contract's list body. */
export interface List<T> {
  items: T[];
  nextCursor: string | null;
}

/** The `error` object of a response's contract error body. */
export const errorOf = (res: HttpResponse): ErrorBody['error'] => (res.json as ErrorBody).error;

/** An open server-sent-events response, read event by event. */
export interface EventStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The next `data:` event parsed as JSON, or undefined when the stream has ended. */
  next(): Promise<Record<string, unknown> | undefined>;
  /** Every remaining event, until the stream ends. */
  rest(): Promise<Record<string, unknown>[]>;
  /** Hangs up, as a reader closing the tab. */
  close(): void;
}

/**
 * POSTs a JSON body and resolves as soon as the response headers arrive, without waiting for the
 * body; the status, headers and each event are checked against `docs/openapi.json`, and so is the
 * body of a JSON answer (a refusal before the stream began), which has no events.
 */
export function openEventStream(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const { hostname, port, pathname } = new URL(url);
    const req = httpRequest(
      {
        hostname,
        port,
        path: pathname,
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/json', ...headers },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (String(res.headers['content-type']).startsWith('application/json')) {
          // Refused before the stream began: the whole JSON body is read and checked, and there are no events.
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const problem = responseProblem('POST', pathname, {
              status,
              headers: res.headers,
              text,
              json: jsonOf(text),
            });
            if (problem) reject(problem);
            else
              resolve({
                status,
                headers: res.headers,
                next: async () => undefined,
                rest: async () => [],
                close: () => req.destroy(),
              });
          });
          return;
        }
        const problem = responseProblem('POST', pathname, { status, headers: res.headers });
        if (problem) {
          req.destroy();
          reject(problem);
          return;
        }
        const iterator = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        let pending = '';
        const queue: string[] = [];
        const next = async (): Promise<Record<string, unknown> | undefined> => {
          while (queue.length === 0) {
            const chunk = await iterator.next();
            if (chunk.done) {
              if (pending.trim() !== '') throw new Error(`stream ended inside an event: ${pending}`);
              return undefined;
            }
            pending += chunk.value.toString('utf8');
            const blocks = pending.split('\n\n');
            pending = blocks.pop() ?? '';
            queue.push(...blocks);
          }
          const block = queue.shift() as string;
          if (!block.startsWith('data: ')) throw new Error(`not a data event: ${block}`);
          const event = JSON.parse(block.slice('data: '.length)) as Record<string, unknown>;
          checkStreamEvent(pathname, event);
          return event;
        };
        resolve({
          status,
          headers: res.headers,
          next,
          rest: async () => {
            const out: Record<string, unknown>[] = [];
            for (let event = await next(); event !== undefined; event = await next()) out.push(event);
            return out;
          },
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** `Strict-Transport-Security` as production sends it (`contract.ts`). */
export const HSTS: string = securityHeaderTable(true)['Strict-Transport-Security']!;

/** The security headers every API response carries in development mode (design §6), lower-cased. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(securityHeaderTable(false)).map(([name, value]) => [name.toLowerCase(), value]),
);
