/**
 * DynamoDB unreachable (design §8): the server still starts, `/health` answers 503 until the tables
 * exist (then 200: liveness only, whatever DynamoDB does later), every request
 * that needs DynamoDB fails closed with a bounded 503 and no detail (whether the endpoint refuses
 * connections or accepts them and never answers), and once the endpoint comes up the server
 * creates its tables and serves normally, as a Lambda would.
 */
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import { closedPort, http, postJson, type HttpResponse } from '../helpers/http.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

/** The bound on one answer while DynamoDB refuses connections (client retries included). */
const MAX_ANSWER_MS = 15_000;
/**
 * The bound on one answer while DynamoDB accepts connections and never answers: the client's
 * request timeouts must turn that into a 503 before API Gateway's 29 s integration timeout
 * turns it into a 504 (or the request hangs until the Lambda is killed).
 */
const HUNG_ANSWER_MS = 25_000;
/** How long the server may take to notice the endpoint came up and create its tables. */
const RECOVERY_MS = 20_000;

const listen = (server: Server, port: number) =>
  new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
const close = (server: Server | undefined) =>
  new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));

/** `request`'s status, or 0 when it has not answered within `ms`. */
async function statusWithin(request: Promise<HttpResponse>, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(0), ms)));
  try {
    return await Promise.race([request.then((res) => res.status), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

describe('with DynamoDB unreachable', () => {
  let server: RunningServer;
  let port: number;
  let dynalite: Server | undefined;
  let blackhole: Server | undefined;
  const held = new Set<Socket>();

  const chat = (sessionId: string, message: string) =>
    postJson(`${server.url}/v1/chat`, { sessionId, message }, { 'X-Widget-Api-Key': server.secrets.widgetKey });
  const admin = (pathAndQuery: string, method = 'GET') =>
    http(`${server.url}${pathAndQuery}`, { method, headers: { Authorization: `Bearer ${server.secrets.adminKey}` } });
  /** Runs `request` and returns its response and how long it took. */
  const timed = async (request: () => Promise<HttpResponse>) => {
    const started = Date.now();
    const res = await request();
    return { res, ms: Date.now() - started };
  };

  beforeAll(async () => {
    port = await closedPort();
    server = await startServer({
      DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`,
      RATE_LIMIT_MAX_REQUESTS: '1000000',
      ADMIN_RATE_LIMIT_MAX: '1000000',
      AUTH_FAILURE_LIMIT: '1000000',
    });
  });
  afterAll(async () => {
    await server.stop();
    for (const socket of held) socket.destroy();
    await Promise.all([close(dynalite), close(blackhole)]);
  });

  it('It should start and report that DynamoDB is not answering yet', async () => {
    // Assess
    await server.waitForOutput(/DynamoDB is not answering yet/, MAX_ANSWER_MS);
    expect(server.output()).not.toMatch(/"tables ready"/);
  });

  it('should answer /health with 503 until its tables exist, so a client that waits for it never meets a missing table', async () => {
    // Act
    const res = await http(`${server.url}/health`);

    // Assess
    expect(res.status).toBe(503);
    expect((res.json as { error: { code: string } }).error.code).toBe('SERVICE_UNAVAILABLE');
    expect(res.headers['retry-after']).toBe('1');
  });

  it.each<[string, () => Promise<HttpResponse>]>([
    ['POST /v1/chat', () => chat('down-1', 'hello')],
    [
      'POST /chat',
      () =>
        postJson(
          `${server.url}/chat`,
          { sessionId: 'down-2', message: 'hello' },
          { 'X-Widget-Api-Key': server.secrets.widgetKey },
        ),
    ],
    ['GET /v1/admin/conversations', () => admin('/v1/admin/conversations')],
    ['GET /v1/admin/conversations?userId=u1', () => admin('/v1/admin/conversations?userId=u1')],
    ['GET /v1/admin/conversations/{sessionId}', () => admin('/v1/admin/conversations/down-1')],
    ['DELETE /v1/admin/conversations/{sessionId}', () => admin('/v1/admin/conversations/down-1', 'DELETE')],
    ['GET /v1/admin/audit', () => admin('/v1/admin/audit')],
    // The failed-auth lockout and the rate limiter need their counters, so these fail closed too.
    ['a bad chat body', () => chat('bad id', 'hello')],
    ['a bad admin query', () => admin('/v1/admin/conversations?limit=0')],
    [
      'a wrong widget key',
      () => postJson(`${server.url}/v1/chat`, { sessionId: 's', message: 'hi' }, { 'X-Widget-Api-Key': 'wrong' }),
    ],
    ['a wrong admin key', () => http(`${server.url}/v1/admin/audit`, { headers: { Authorization: 'Bearer x' } })],
    ['no credential', () => http(`${server.url}/v1/admin/audit`)],
    ['GET /v1/admin/audit?type=admin.access', () => admin('/v1/admin/audit?type=admin.access')],
  ])('It should fail closed on %s with a bounded 503 SERVICE_UNAVAILABLE', async (_name, request) => {
    // Act
    const { res, ms } = await timed(request);

    // Assess
    expect(ms).toBeLessThan(MAX_ANSWER_MS);
    expect(res.status).toBe(503);
    expect(res.json).toEqual({
      error: { code: 'SERVICE_UNAVAILABLE', message: 'The service is temporarily unavailable. Try again later.' },
    });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it.each<[string, () => Promise<HttpResponse>, number, string]>([
    [
      'malformed JSON',
      () =>
        http(`${server.url}/v1/chat`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Widget-Api-Key': server.secrets.widgetKey },
          body: '{',
        }),
      400,
      'INVALID_JSON',
    ],
    [
      'a text/plain body',
      () =>
        http(`${server.url}/v1/chat`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain', 'X-Widget-Api-Key': server.secrets.widgetKey },
          body: 'hello',
        }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['an unknown route', () => http(`${server.url}/v1/nope`), 404, 'NOT_FOUND'],
    ['a wrong method', () => http(`${server.url}/v1/chat`), 405, 'METHOD_NOT_ALLOWED'],
  ])('It should still answer %s (checked before any store) without DynamoDB', async (_name, request, status, code) => {
    // Act
    const { res, ms } = await timed(request);

    // Assess
    expect(ms).toBeLessThan(MAX_ANSWER_MS);
    expect(res.status).toBe(status);
    expect((res.json as { error: { code: string } }).error.code).toBe(code);
  });

  it(
    'It should answer before the API Gateway timeout when DynamoDB accepts connections and never answers',
    async () => {
      // Prepare: a black hole on the DynamoDB port
      blackhole = createServer((socket) => {
        held.add(socket);
        socket.on('error', () => undefined).resume();
      });
      await listen(blackhole, port);
      const cases: Array<[string, () => Promise<HttpResponse>, number]> = [
        ['POST /v1/chat', () => chat('hung-1', 'hello'), 503],
        ['GET /v1/admin/conversations', () => admin('/v1/admin/conversations'), 503],
        ['DELETE /v1/admin/conversations/{sessionId}', () => admin('/v1/admin/conversations/hung-1', 'DELETE'), 503],
        [
          'a wrong admin key',
          () => http(`${server.url}/v1/admin/audit`, { headers: { Authorization: 'Bearer x' } }),
          503,
        ],
        ['GET /health (tables not created yet)', () => http(`${server.url}/health`), 503],
      ];

      // Act: all at once, each raced against the bound (0 = no answer in time)
      const statuses = await Promise.all(cases.map(([, request]) => statusWithin(request(), HUNG_ANSWER_MS)));

      // Assess
      expect(cases.map(([name], i) => `${name} → ${statuses[i]}`)).toEqual(
        cases.map(([name, , status]) => `${name} → ${status}`),
      );
    },
    HUNG_ANSWER_MS + 10_000,
  );

  it(
    'It should create its tables and serve chat once DynamoDB comes up',
    async () => {
      // Prepare: whatever was connected to the black hole gets a reset, then the real engine listens
      for (const socket of held) socket.destroy();
      await close(blackhole);
      const start = createRequire(import.meta.url)('dynalite') as (options: Record<string, unknown>) => Server;
      dynalite = start({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
      await listen(dynalite, port);

      // Act: the server retries table creation on its own; its log says when it is done
      await server.waitForOutput(/"tables ready"/, RECOVERY_MS);
      const res = await chat('recovered', 'hello again');

      // Assess
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ sessionId: 'recovered', message: { content: 'Echo: hello again' } });
      expect((await http(`${server.url}/health`)).status).toBe(200);
      const list = await admin('/v1/admin/conversations');
      expect(list.status).toBe(200);
      // Requests cut off by the black hole may still land once DynamoDB is back; "recovered" must be there.
      expect((list.json as { items: Array<{ sessionId: string }> }).items.map((i) => i.sessionId)).toContain(
        'recovered',
      );
    },
    RECOVERY_MS + 2 * MAX_ANSWER_MS,
  );

  it('It should fail closed again when DynamoDB goes away after tables exist', async () => {
    // Prepare
    await close(dynalite);

    // Act
    const { res, ms } = await timed(() => chat('recovered', 'still there?'));

    // Assess
    expect(ms).toBeLessThan(MAX_ANSWER_MS);
    expect(res.status).toBe(503);
    expect((res.json as { error: { code: string } }).error.code).toBe('SERVICE_UNAVAILABLE');
    expect((await http(`${server.url}/health`)).status).toBe(200);
  });
});
