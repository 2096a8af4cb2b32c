/** A raw HTTP client for end-to-end tests: full control over methods, request-targets, headers and bytes. */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';

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
}

/** Sends one request and reads the whole response. */
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
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
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
export interface ErrorBody {
  error: { code: string; message: string; retry_after?: number; details?: Array<{ path: string; message: string }> };
}

/** The contract's list body. */
export interface List<T> {
  items: T[];
  nextCursor: string | null;
}

/** The `error` object of a response's contract error body. */
export const errorOf = (res: HttpResponse): ErrorBody['error'] => (res.json as ErrorBody).error;
