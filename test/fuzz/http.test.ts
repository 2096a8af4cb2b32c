/**
 * Fuzzing over HTTP: hostile requests (raw request-targets, headers, bytes) against the local
 * server, over one keep-alive connection, so the event adapter is fuzzed along with the chain.
 * Properties as in process (never a 5xx, security headers, error body shape, no leaks), and the
 * server still answers /health and a good chat afterwards. `npm test` runs a fixed-seed sample
 * of a fifth of FUZZ_RUNS (at least 200); `npm run fuzz` runs 2,000.
 */
import { Agent } from 'node:http';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { contractProblems, fuzzSettings, requestArb, type FuzzRequest } from '../helpers/fuzz.js';
import { http, postJson } from '../helpers/http.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

/** Percent-encodes the UTF-8 bytes of `text` except what a request-target may carry as is. */
function encode(text: string): string {
  const raw = /^[\x21-\x7e]*$/.test(text) && !/[/?#]/.test(text);
  if (raw) return text;
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9._~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');
}

/** The request-target of `request`: its segments and query, encoded only where HTTP needs it. */
function targetOf(request: FuzzRequest): string {
  const query = request.query.map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&');
  return `/${request.segments.map(encode).join('/')}${query ? `?${query}` : ''}`;
}

describe('fuzzing the local server over HTTP', () => {
  let server: RunningServer;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    agent.destroy();
    await server.stop();
  });

  it('It should answer every hostile request within the contract', async () => {
    // Prepare
    const { numRuns, seed } = fuzzSettings();
    const now = Math.floor(Date.now() / 1000);
    const token = jwt.sign({ sub: 'fuzz-user', iat: now, exp: now + 3600 }, server.secrets.signingSecret, {
      algorithm: 'HS256',
    });
    const { widgetKey, adminKey, serverKey } = server.secrets;
    const secrets = Object.values(server.secrets);
    let successes = 0;

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(requestArb({ widgetKey, adminKey, serverKey, token }, 'http'), async (request) => {
        const response = await http(server.url, {
          method: request.method,
          target: targetOf(request),
          // A body always goes with its length: without one, a GET's bytes would be read as the next request.
          headers:
            request.body === undefined
              ? request.headers
              : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
          body: request.body,
          agent,
        });
        if (response.status < 300) successes += 1;
        const problems = contractProblems(
          { status: response.status, headers: response.headers, body: response.text },
          { method: request.method, secrets },
        );
        if (problems.length > 0) throw new Error(`${response.status}: ${problems.join('; ')}`);
      }),
      { numRuns: Math.max(200, Math.ceil(numRuns / 5)), seed },
    );

    // Assess: some cases got through every guard
    expect(successes).toBeGreaterThan(0);
  }, 900_000);

  it('It should be healthy and serve chat after the fuzzing', async () => {
    // Act
    const health = await http(`${server.url}/health`);
    const chat = await postJson(
      `${server.url}/v1/chat`,
      { sessionId: 'after-fuzz', message: 'still here?' },
      { 'X-Widget-Api-Key': server.secrets.widgetKey },
    );

    // Assess
    expect(health.status).toBe(200);
    expect(chat.status).toBe(200);
    expect(chat.json).toMatchObject({ message: { content: 'Echo: still here?' } });
    expect(server.output()).not.toMatch(/local adapter failure|unexpected error/);
  });
});
