/**
 * Issue 16 end to end: the faults found by replaying public bug reports, each against `npm start`
 * on DynamoDB Local (Java: it measures key sizes in UTF-8 bytes as DynamoDB does; dynalite does not)
 * with the OpenAI-compatible model faked. The server listens dual-stack (`::`), so IPv4 clients
 * arrive as IPv4-mapped addresses, as they do behind many proxies.
 *
 * Each test binds its sockets to loopback addresses of its own (127.43.x.y): a fresh set of clients.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { errorOf, http, type HttpResponse } from '../helpers/http.js';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { responseProblem } from '../helpers/openapi.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

const START_TIMEOUT_MS = 180_000;
/** Far longer than the disconnect test may take: only the disconnect can end its model call in time. */
const MODEL_TIMEOUT_MS = 120_000;
const WIDGET_ORIGIN = 'https://app.example.com';

let hosts = 0;
/** A loopback address no other test in this file uses. */
function freshIp(): string {
  hosts += 1;
  return `127.43.${Math.floor(hosts / 250)}.${(hosts % 250) + 1}`;
}
let sessions = 0;
const freshSession = (prefix = 's') => `${prefix}-${process.pid}-${(sessions += 1)}`;
const h = (res: HttpResponse, name: string): string | undefined => {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** Sends raw request bytes (duplicate header lines and all) and reads the answer until the server closes. */
function rawRequest(
  port: number,
  localAddress: string,
  head: readonly string[],
  body: string,
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [headText = '', bodyText = ''] = text.split('\r\n\r\n');
      let json: unknown;
      try {
        json = JSON.parse(bodyText);
      } catch {
        json = undefined;
      }
      const [statusLine = '', ...headerLines] = headText.split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      const status = Number(statusLine.split(' ')[1]);
      // Checked against docs/openapi.json as every other answer of the suite is (`http()`).
      const [method = '', target = ''] = (head[0] ?? '').split(' ');
      const problem = responseProblem(method, target, { status, headers, text: bodyText, json });
      if (problem) reject(problem);
      else resolve({ status, json });
    });
    const lines = [
      ...head,
      'Host: 127.0.0.1',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      '',
      body,
    ];
    socket.write(lines.join('\r\n'));
  });
}

describe('issue 16: faults replayed from public bug reports', () => {
  let server: RunningServer;
  let fake: FakeOpenAi;
  let url: string;
  let port: number;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    server = await startServer({
      HOST: '::',
      LOCAL_DYNAMODB: 'java',
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_MODEL: 'fake-model',
      OPENAI_API_KEY: 'sk-fake-0123456789',
      CORS_ORIGIN: WIDGET_ORIGIN,
      RATE_LIMIT_WINDOW_MS: '3600000',
      RATE_LIMIT_MAX_REQUESTS: '30',
      RATE_LIMIT_SESSION_MAX: '20',
      AUTH_FAILURE_LIMIT: '3',
      MODEL_TIMEOUT_MS: String(MODEL_TIMEOUT_MS),
    });
    port = Number(new URL(server.url).port);
    url = `http://127.0.0.1:${port}`;
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
  });

  const widget = () => server.secrets.widgetKey;
  const chat = (ip: string, sessionId: string, headers: Record<string, string> = {}) =>
    http(`${url}/v1/chat`, {
      method: 'POST',
      localAddress: ip,
      headers: { 'Content-Type': 'application/json', 'X-Widget-Api-Key': widget(), ...headers },
      body: JSON.stringify({ sessionId, message: 'hello' }),
    });
  const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
    http(`${url}${path}`, {
      method: init.method ?? 'GET',
      localAddress: freshIp(),
      headers: { Authorization: `Bearer ${server.secrets.adminKey}`, 'Content-Type': 'application/json' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const mint = async (userId: string): Promise<string> => {
    const res = await http(`${url}/v1/tokens`, {
      method: 'POST',
      localAddress: freshIp(),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.secrets.serverKey}` },
      body: JSON.stringify({ userId }),
    });
    expect(res.status).toBe(201);
    return (res.json as { token: string }).token;
  };
  const noServerErrors = () => expect(server.output()).not.toMatch(/"unexpected error"|"dependency failure"/);

  describe('1. keys longer than DynamoDB allows', () => {
    it.each([
      ['1,016 ASCII characters', 'j'.repeat(1016)],
      ['1,017 ASCII characters', 'j'.repeat(1017)],
      ['2,500 ASCII characters', 'j'.repeat(2500)],
      ['700 three-byte characters (2,100 bytes)', '€'.repeat(700)],
      ['300 four-byte characters (1,200 bytes)', '😀'.repeat(300)],
    ])('should revoke a token whose jti is %s with 204, never a 5xx', async (_name, jti) => {
      // Prepare
      const token = await new SignJWT({ sub: 'someone' })
        .setProtectedHeader({ alg: 'HS256' })
        .setJti(jti)
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode('any-secret-the-admin-route-does-not-verify'));

      // Act
      const res = await admin('/v1/admin/tokens/revoke', { method: 'POST', body: { token } });

      // Assess
      expect(res.status).toBe(204);
      noServerErrors();
    });

    it('should chat and revoke on the longest accepted session id and user id', async () => {
      // Prepare
      const userId = `u${'~'.repeat(127)}`;
      const token = await mint(userId);

      // Act
      const talked = await chat(freshIp(), `s${'-'.repeat(127)}`, { Authorization: `Bearer ${token}` });
      const revoked = await admin('/v1/admin/tokens/revoke', { method: 'POST', body: { userId } });
      const listed = await admin(`/v1/admin/conversations?userId=${encodeURIComponent(userId)}`);

      // Assess
      expect([talked.status, revoked.status, listed.status]).toEqual([200, 204, 200]);
      noServerErrors();
    });
  });

  describe('2. repeated credential headers', () => {
    const json = 'Content-Type: application/json';
    it.each<[string, (t: { alice: string; mallory: string; key: string }) => string[]]>([
      [
        'two bearer tokens of two users',
        (t) => [
          json,
          `X-Widget-Api-Key: ${t.key}`,
          `Authorization: Bearer ${t.alice}`,
          `Authorization: Bearer ${t.mallory}`,
        ],
      ],
      [
        'a malformed then a valid token',
        (t) => [
          json,
          `X-Widget-Api-Key: ${t.key}`,
          'Authorization: Bearer not-a-jwt',
          `Authorization: Bearer ${t.alice}`,
        ],
      ],
      ['a wrong then a right widget key', (t) => [json, 'X-Widget-Api-Key: wrong', `X-Widget-Api-Key: ${t.key}`]],
      ['text/plain then application/json', (t) => ['Content-Type: text/plain', json, `X-Widget-Api-Key: ${t.key}`]],
      [
        'two spellings of Authorization',
        (t) => [
          json,
          `X-Widget-Api-Key: ${t.key}`,
          `authorization: Bearer ${t.mallory}`,
          `Authorization: Bearer ${t.alice}`,
        ],
      ],
    ])('should answer %s with 400 VALIDATION_FAILED', async (_name, headersOf) => {
      // Prepare
      const tokens = { alice: await mint('alice'), mallory: await mint('mallory'), key: widget() };
      const body = JSON.stringify({ sessionId: freshSession('dup'), message: 'hello' });

      // Act
      const res = await rawRequest(port, freshIp(), ['POST /v1/chat HTTP/1.1', ...headersOf(tokens)], body);

      // Assess
      expect(res.status).toBe(400);
      expect((res.json as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    });

    it('should accept a header repeated with the same value', async () => {
      // Prepare
      const body = JSON.stringify({ sessionId: freshSession('dup'), message: 'hello' });
      const key = `X-Widget-Api-Key: ${widget()}`;

      // Act
      const res = await rawRequest(
        port,
        freshIp(),
        ['POST /v1/chat HTTP/1.1', 'Content-Type: application/json', key, key],
        body,
      );

      // Assess
      expect(res.status).toBe(200);
    });
  });

  describe('4. Retry-After that is the truth', () => {
    it('should make every field of a 429 agree, with nothing remaining', async () => {
      // Prepare
      const ip = freshIp();
      for (let i = 0; i < 30; i += 1) expect((await chat(ip, freshSession())).status).toBe(200);

      // Act
      const before = Math.floor(Date.now() / 1000);
      const refused = await chat(ip, freshSession());
      const after = Math.ceil(Date.now() / 1000);

      // Assess
      expect(refused.status).toBe(429);
      const retryAfter = Number(h(refused, 'retry-after'));
      expect(errorOf(refused).retry_after).toBe(retryAfter);
      expect(h(refused, 'ratelimit')).toBe(`"ip";r=0;t=${retryAfter}`);
      expect(h(refused, 'x-ratelimit-remaining')).toBe('0');
      const reset = Number(h(refused, 'x-ratelimit-reset'));
      expect(reset).toBeGreaterThanOrEqual(before + retryAfter);
      expect(reset).toBeLessThanOrEqual(after + retryAfter);
    });

    it('should report nothing remaining on the lockout 429 of a client past its failed authentications', async () => {
      // Prepare
      const ip = freshIp();
      for (let i = 0; i < 4; i += 1) await chat(ip, freshSession(), { 'X-Widget-Api-Key': 'wrong-key' });

      // Act
      const locked = await chat(ip, freshSession());

      // Assess
      expect(locked.status).toBe(429);
      expect(h(locked, 'x-ratelimit-remaining')).toBe('0');
      const retryAfter = Number(h(locked, 'retry-after'));
      expect(errorOf(locked).retry_after).toBe(retryAfter);
      expect(h(locked, 'ratelimit')).toBe(`"auth-failure";r=0;t=${retryAfter}`);
    });
  });

  describe('6. a session exhausted by strangers', () => {
    it("should leave the owner's next request at 200 after a stranger's 25 requests on the session", async () => {
      // Prepare
      const owner = await mint('session-owner');
      const stranger = await mint('session-stranger');
      const sessionId = freshSession('owned');
      const ownerIp = freshIp();
      expect((await chat(ownerIp, sessionId, { Authorization: `Bearer ${owner}` })).status).toBe(200);

      // Act
      const statuses: number[] = [];
      for (let i = 0; i < 25; i += 1) {
        const who: Record<string, string> = i % 2 === 0 ? { Authorization: `Bearer ${stranger}` } : {};
        statuses.push((await chat(freshIp(), sessionId, who)).status);
      }
      const next = await chat(ownerIp, sessionId, { Authorization: `Bearer ${owner}` });

      // Assess
      expect(statuses.every((status) => status === 404)).toBe(true);
      expect(next.status).toBe(200);
    });
  });

  describe('7. client addresses', () => {
    it('should record an IPv4 client of the dual-stack socket as dotted IPv4 in the audit trail and the logs', async () => {
      // Prepare
      const ip = freshIp();

      // Act
      await chat(ip, freshSession(), { 'X-Widget-Api-Key': 'wrong-key' });
      const audit = await admin('/v1/admin/audit?type=auth.failure&limit=100');

      // Assess
      const items = (audit.json as { items: Array<{ ip: string }> }).items;
      expect(items.map((item) => item.ip)).toContain(ip);
      expect(items.some((item) => item.ip.startsWith('::ffff:'))).toBe(false);
      expect(server.output()).not.toContain('::ffff:');
    });
  });

  describe('8. admin look-alike paths', () => {
    it.each(
      ['/V1/ADMIN/audit', '/v1/admin%2Faudit', '//v1/admin/audit', '/v1/chat/../admin/audit'].flatMap((target) =>
        ['GET', 'OPTIONS'].map((method) => [method, target]),
      ),
    )('should answer %s %s from the widget origin with no CORS grant and no data', async (method, target) => {
      // Act
      const res = await http(`${url}/`, {
        method,
        target,
        localAddress: freshIp(),
        headers: {
          Origin: WIDGET_ORIGIN,
          Authorization: `Bearer ${server.secrets.adminKey}`,
          'Access-Control-Request-Method': 'GET',
        },
      });

      // Assess
      expect(res.status).toBe(404);
      expect(h(res, 'access-control-allow-origin')).toBeUndefined();
      expect(h(res, 'access-control-allow-methods')).toBeUndefined();
      expect(res.text).not.toMatch(/"items"/);
    });
  });

  describe('9. a plain chat whose caller is gone', () => {
    afterEach(() => fake.behave({ kind: 'answer', deltas: ['Hello', ' from', ' the', ' fake'] }));

    it(
      'should abort the model call on disconnect and keep the user message stored once',
      async () => {
        // Prepare: the fake model never answers; the server's own model timeout is far beyond this test's
        fake.behave({ kind: 'stall' });
        const sessionId = freshSession('gone');
        const seen = fake.requests.length;
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          path: '/v1/chat',
          method: 'POST',
          localAddress: freshIp(),
          agent: false,
          headers: { 'Content-Type': 'application/json', 'X-Widget-Api-Key': widget() },
        });
        req.on('error', () => undefined);
        req.end(JSON.stringify({ sessionId, message: 'hello' }));
        while (fake.requests.length === seen) await new Promise((resolve) => setTimeout(resolve, 20));

        const failures = () => server.output().split('"dependency failure"').length;
        const failuresBefore = failures();

        // Act: hang up while the model call runs
        req.destroy();
        await fake.requests[seen]?.hungUp;
        await server.waitForOutput(/"client disconnected"/);

        // Assess: stored once; and a hang-up anyone can cause is no dependency failure to alarm on
        const conversation = await admin(`/v1/admin/conversations/${sessionId}`);
        const roles = (conversation.json as { messages: Array<{ role: string }> }).messages.map((m) => m.role);
        expect(roles).toEqual(['user']);
        expect(failures()).toBe(failuresBefore);
      },
      MODEL_TIMEOUT_MS / 4,
    );
  });
});
