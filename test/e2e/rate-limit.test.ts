/**
 * Application rate limiting over HTTP (design §7): the tiers per client address, session,
 * verified user, server key and admin address; the failed-authentication lockout; the response
 * headers; forwarding headers never trusted; exactness under concurrency on DynamoDB Local; and
 * the counter store down (fail closed, or open with RATE_LIMIT_FAIL_OPEN=true).
 *
 * Each test binds its client sockets to loopback addresses of its own (127.42.x.y), so each test
 * is a fresh set of clients. Windows are one hour long so that no test straddles a window
 * boundary, where the sliding window would legitimately shift the counts.
 */
import { closedPort, http, type HttpResponse, errorOf } from '../helpers/http.js';
import { describeLocalOnly, startServer, startTarget, type RunningServer } from '../helpers/local-server.js';

const WINDOW_S = 3600;
const START_TIMEOUT_MS = 120_000;

interface AuditItem {
  type: string;
  ip: string;
  route: string;
  method: string;
  count: number;
  detail: Record<string, string | number>;
}

let hosts = 0;
/** A loopback address no other test in this file uses: a client the server has never seen. */
function freshIp(): string {
  hosts += 1;
  return `127.42.${Math.floor(hosts / 250)}.${(hosts % 250) + 1}`;
}

let sessions = 0;
/** A session id no other request in this file uses. */
const freshSession = (prefix = 's') => `${prefix}-${process.pid}-${(sessions += 1)}`;

/** A header as one string (undefined when absent). */
const h = (res: HttpResponse, name: string): string | undefined => {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
};
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Checks a 429 as the contract describes it and returns its Retry-After in seconds. */
function expectRefused(res: HttpResponse): number {
  expect(res.status).toBe(429);
  const retryAfter = h(res, 'retry-after');
  expect(retryAfter).toMatch(/^[1-9]\d*$/);
  expect(errorOf(res)).toEqual({
    code: 'RATE_LIMIT_EXCEEDED',
    message: 'Too many requests. Retry later.',
    retry_after: Number(retryAfter),
  });
  return Number(retryAfter);
}

/** Client calls against one server, each from a chosen loopback address. */
function client(server: () => RunningServer) {
  const widget = () => server().secrets.widgetKey;
  return {
    chat: (ip: string, sessionId: string, headers: Record<string, string> = {}) =>
      http(`${server().url}/v1/chat`, {
        method: 'POST',
        localAddress: ip,
        headers: { 'Content-Type': 'application/json', 'X-Widget-Api-Key': widget(), ...headers },
        body: JSON.stringify({ sessionId, message: 'hello' }),
      }),
    mint: (ip: string, userId: string, key = server().secrets.serverKey) =>
      http(`${server().url}/v1/tokens`, {
        method: 'POST',
        localAddress: ip,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
        body: JSON.stringify({ userId }),
      }),
    admin: (ip: string, pathAndQuery: string, key = server().secrets.adminKey) =>
      http(`${server().url}${pathAndQuery}`, { localAddress: ip, headers: { Authorization: `Bearer ${key}` } }),
  };
}

describe('rate limiting over HTTP', () => {
  const LIMITS = {
    RATE_LIMIT_WINDOW_MS: String(WINDOW_S * 1000),
    RATE_LIMIT_MAX_REQUESTS: '5',
    RATE_LIMIT_SESSION_MAX: '6',
    RATE_LIMIT_USER_MAX: '3',
    TOKEN_RATE_LIMIT_MAX: '4',
    ADMIN_RATE_LIMIT_MAX: '4',
    AUTH_FAILURE_LIMIT: '3',
    // The preflight test's page; the synthesized stack's template names only its own origin.
    CORS_ORIGIN: 'https://widget.example.com',
  };
  /** Tokens minted before any test: they take 2 of the 4 server-key requests of this window. */
  const MINTED_IN_SETUP = 2;
  let server: RunningServer;
  const { chat, mint, admin } = client(() => server);
  let tokenA: string;
  let tokenB: string;

  beforeAll(async () => {
    server = await startTarget(LIMITS);
    const minted = await Promise.all([mint(freshIp(), 'user-a'), mint(freshIp(), 'user-b')]);
    expect(minted.map((res) => res.status)).toEqual([201, 201]);
    [tokenA, tokenB] = minted.map((res) => (res.json as { token: string }).token) as [string, string];
    // A first chat loads the chat function (a process of its own on start:synth), so no window
    // measured below includes a cold start.
    expect((await chat(freshIp(), freshSession('warm-up'))).status).toBe(200);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await server?.stop();
  });

  /** Sends `n` chats from `ip`, one after the other, each on a session of its own. */
  const chats = async (ip: string, n: number, headers: (i: number) => Record<string, string> = () => ({})) => {
    const responses: HttpResponse[] = [];
    for (let i = 0; i < n; i += 1) responses.push(await chat(ip, freshSession(), headers(i)));
    return responses;
  };

  it('It should count X-RateLimit-Remaining down 4, 3, 2, 1, 0 and refuse the sixth request with 429', async () => {
    // Prepare
    const ip = freshIp();

    // Act
    const before = nowSeconds();
    const responses = await chats(ip, 6);
    const after = nowSeconds();

    // Assess
    expect(responses.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(responses.map((res) => h(res, 'x-ratelimit-remaining'))).toEqual(['4', '3', '2', '1', '0', '0']);
    expect(new Set(responses.map((res) => h(res, 'x-ratelimit-limit')))).toEqual(new Set(['5']));
    // Allowed: the end of the window; refused: when the same request passes (just after that end)
    const resets = new Set(responses.slice(0, 5).map((res) => h(res, 'x-ratelimit-reset')));
    expect(resets.size).toBe(1);
    const reset = Number([...resets][0]);
    expect(Number.isInteger(reset)).toBe(true);
    expect(reset).toBeGreaterThan(after);
    expect(reset).toBeLessThanOrEqual(before + WINDOW_S + 1);
    for (const [i, res] of responses.entries()) {
      expect(h(res, 'ratelimit-policy')).toBe(`"ip";q=5;w=${WINDOW_S}, "session";q=6;w=${WINDOW_S}`);
      const match = /^"ip";r=(\d+);t=(\d+)$/.exec(h(res, 'ratelimit') ?? '');
      expect(match?.[1]).toBe(String(Math.max(0, 4 - i)));
      // `t` is what remained of the window when that answer was made: between what remained when
      // the first request left and when the last answer came back (no bound on how long that took).
      expect(Number(match?.[2])).toBeGreaterThanOrEqual(reset - after - 1);
      expect(Number(match?.[2])).toBeLessThanOrEqual(reset - before + 1);
    }
    const retryAfter = expectRefused(responses[5]!);
    expect(h(responses[5]!, 'ratelimit')).toBe(`"ip";r=0;t=${retryAfter}`);
    expect(Number(h(responses[5]!, 'x-ratelimit-reset')) - reset).toBeGreaterThanOrEqual(0);
    expect(Number(h(responses[5]!, 'x-ratelimit-reset')) - reset).toBeLessThanOrEqual(1);
    // A refused client waits at least until its window resets, and never beyond the next one.
    expect(retryAfter).toBeGreaterThanOrEqual(reset - after - 1);
    expect(retryAfter).toBeLessThanOrEqual(2 * WINDOW_S);
  });

  // Early in the file: audit writes of unauthenticated events are budgeted per second, and the
  // lockout tests below spend that budget.
  it('It should record rate_limit.exceeded in the audit trail, listed by type', async () => {
    // Prepare
    const ip = freshIp();
    expect((await chats(ip, 6)).map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 429]);

    // Act: from an address of its own, so the admin call spends no limit of the refused client
    const res = await admin(freshIp(), '/v1/admin/audit?type=rate_limit.exceeded&limit=100');

    // Assess
    expect(res.status).toBe(200);
    const items = (res.json as { items: AuditItem[] }).items;
    expect(items.length).toBeGreaterThan(0);
    expect(new Set(items.map((item) => item.type))).toEqual(new Set(['rate_limit.exceeded']));
    expect(items.filter((item) => item.ip === ip)).toEqual([
      expect.objectContaining({ method: 'POST', route: '/v1/chat', detail: { tier: 'ip', limit: 5 } }),
    ]);
  });

  it('It should keep refusing a client whose limit is spent', async () => {
    // Prepare
    const ip = freshIp();
    await chats(ip, 5);

    // Act
    const responses = await chats(ip, 3);

    // Assess
    for (const res of responses) expectRefused(res);
  });

  it('It should not limit another client address when one is refused', async () => {
    // Prepare
    const spent = freshIp();
    const other = freshIp();
    expect((await chats(spent, 6)).map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 429]);

    // Act
    const res = await chat(other, freshSession());

    // Assess
    expect(res.status).toBe(200);
    expect(h(res, 'x-ratelimit-remaining')).toBe('4');
  });

  it.each<[string, (i: number) => Record<string, string>]>([
    ['X-Forwarded-For', (i) => ({ 'X-Forwarded-For': `198.51.100.${i + 1}` })],
    ['X-Real-IP', (i) => ({ 'X-Real-IP': `203.0.113.${i + 1}` })],
    ['Forwarded', (i) => ({ Forwarded: `for=192.0.2.${i + 1};proto=https` })],
    [
      'all three, with IPv6 and chains',
      (i) => ({
        'X-Forwarded-For': `2001:db8:${i + 1}::1, 10.0.0.${i + 1}`,
        'X-Real-IP': `10.1.1.${i + 1}`,
        Forwarded: `for="[2001:db8:${i + 1}::2]"`,
      }),
    ],
  ])('It should not reset the count when a client varies %s', async (_label, spoof) => {
    // Prepare
    const ip = freshIp();

    // Act
    const responses = await chats(ip, 6, spoof);

    // Assess
    expect(responses.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(responses.map((res) => h(res, 'x-ratelimit-remaining'))).toEqual(['4', '3', '2', '1', '0', '0']);
  });

  it('It should not count a request against the address that X-Forwarded-For names', async () => {
    // Prepare: a victim whose limit is spent
    const victim = freshIp();
    await chats(victim, 6);

    // Act: another client claims to be the victim, and to be forwarded for it
    const res = await chat(freshIp(), freshSession(), { 'X-Forwarded-For': victim, 'X-Real-IP': victim });

    // Assess
    expect(res.status).toBe(200);
    expect(h(res, 'x-ratelimit-remaining')).toBe('4');
  });

  it('It should refuse the seventh request on one session even from seven different addresses', async () => {
    // Prepare
    const sessionId = freshSession('shared');
    const ips = Array.from({ length: 7 }, freshIp);

    // Act
    const responses: HttpResponse[] = [];
    for (const ip of ips) responses.push(await chat(ip, sessionId));
    const otherSession = await chat(ips[6]!, freshSession());

    // Assess
    expect(responses.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 200, 429]);
    expectRefused(responses[6]!);
    expect(h(responses[6]!, 'ratelimit')).toMatch(/^"session";r=0;t=\d+$/);
    expect(otherSession.status).toBe(200);
  });

  it('It should refuse the fourth request of one verified user across addresses and sessions', async () => {
    // Prepare
    const ips = Array.from({ length: 4 }, freshIp);
    const asUserA = { Authorization: `Bearer ${tokenA}` };

    // Act
    const responses: HttpResponse[] = [];
    for (const ip of ips) responses.push(await chat(ip, freshSession(), asUserA));
    const anonymous = await chat(ips[3]!, freshSession());
    const userB = await chat(ips[3]!, freshSession(), { Authorization: `Bearer ${tokenB}` });

    // Assess
    expect(responses.map((res) => res.status)).toEqual([200, 200, 200, 429]);
    expect(responses.map((res) => h(res, 'ratelimit')?.replace(/;t=\d+$/, ''))).toEqual([
      '"user";r=2',
      '"user";r=1',
      '"user";r=0',
      '"user";r=0',
    ]);
    expect(h(responses[0]!, 'ratelimit-policy')).toBe(
      `"ip";q=5;w=${WINDOW_S}, "session";q=6;w=${WINDOW_S}, "user";q=3;w=${WINDOW_S}`,
    );
    expectRefused(responses[3]!);
    expect([anonymous.status, userB.status]).toEqual([200, 200]);
  });

  it('It should limit POST /v1/tokens per server key, whatever the address', async () => {
    // Prepare: the setup minted 2 of the 4 tokens of this window
    const left = Number(LIMITS.TOKEN_RATE_LIMIT_MAX) - MINTED_IN_SETUP;

    // Act
    const responses: HttpResponse[] = [];
    for (let i = 0; i <= left; i += 1) responses.push(await mint(freshIp(), `user-${i}`));

    // Assess
    expect(responses.map((res) => res.status)).toEqual([201, 201, 429]);
    expect(responses.map((res) => h(res, 'x-ratelimit-remaining'))).toEqual(['1', '0', '0']);
    expect(h(responses[0]!, 'ratelimit-policy')).toBe(`"server-key";q=4;w=${WINDOW_S}`);
    expect(h(responses[2]!, 'ratelimit')).toMatch(/^"server-key";r=0;t=\d+$/);
    expectRefused(responses[2]!);
  });

  it('It should limit admin routes per client address', async () => {
    // Prepare
    const ip = freshIp();

    // Act
    const responses: HttpResponse[] = [];
    for (let i = 0; i < 5; i += 1) responses.push(await admin(ip, '/v1/admin/conversations?limit=1'));
    const other = await admin(freshIp(), '/v1/admin/conversations?limit=1');

    // Assess
    expect(responses.map((res) => res.status)).toEqual([200, 200, 200, 200, 429]);
    expect(responses.map((res) => h(res, 'x-ratelimit-remaining'))).toEqual(['3', '2', '1', '0', '0']);
    expect(h(responses[0]!, 'ratelimit-policy')).toBe(`"admin-ip";q=4;w=${WINDOW_S}`);
    expectRefused(responses[4]!);
    expect(other.status).toBe(200);
  });

  it('It should neither count nor refuse CORS preflight requests', async () => {
    // Prepare
    const ip = freshIp();
    const preflight = () =>
      http(`${server.url}/v1/chat`, {
        method: 'OPTIONS',
        localAddress: ip,
        headers: {
          Origin: 'https://widget.example.com',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type, x-widget-api-key',
        },
      });

    // Act: more preflights than the limit, then the limit of chats, then preflights again
    const first: HttpResponse[] = [];
    for (let i = 0; i < 8; i += 1) first.push(await preflight());
    const chatResponses = await chats(ip, 6);
    const afterRefusal = await Promise.all([preflight(), preflight()]);

    // Assess
    for (const res of [...first, ...afterRefusal]) {
      expect(res.status).toBe(204);
      expect(h(res, 'x-ratelimit-remaining')).toBeUndefined();
      expect(h(res, 'ratelimit')).toBeUndefined();
      expect(h(res, 'retry-after')).toBeUndefined();
    }
    expect(chatResponses.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it.each<[string, (ip: string) => Promise<HttpResponse>]>([
    ['a wrong widget key', (ip) => chat(ip, freshSession(), { 'X-Widget-Api-Key': `wrong-${ip}` })],
    [
      'a missing widget key',
      (ip) =>
        http(`${server.url}/v1/chat`, {
          method: 'POST',
          localAddress: ip,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ sessionId: freshSession(), message: 'hello' }),
        }),
    ],
    ['a wrong admin key', (ip) => admin(ip, '/v1/admin/conversations', 'wrong-admin-key')],
    ['an invalid widget token', (ip) => chat(ip, freshSession(), { Authorization: 'Bearer not.a.token' })],
  ])(
    'It should lock an address out after AUTH_FAILURE_LIMIT failures (%s): 429 even for the correct key',
    async (_label, fail) => {
      // Prepare
      const ip = freshIp();
      const failures: HttpResponse[] = [];
      for (let i = 0; i < 3; i += 1) failures.push(await fail(ip));

      // Act
      const nextFailure = await fail(ip);
      const correctKey = await chat(ip, freshSession());
      const otherAddress = await chat(freshIp(), freshSession());

      // Assess
      expect(failures.map((res) => res.status)).toEqual([401, 401, 401]);
      expectRefused(nextFailure);
      expectRefused(correctKey);
      expect(otherAddress.status).toBe(200);
    },
  );
});

describeLocalOnly('rate limiting under concurrency on DynamoDB Local', () => {
  let server: RunningServer;
  const { chat } = client(() => server);

  beforeAll(async () => {
    server = await startServer({
      LOCAL_DYNAMODB: 'memory',
      RATE_LIMIT_WINDOW_MS: String(WINDOW_S * 1000),
      RATE_LIMIT_MAX_REQUESTS: '10',
    });
    // A first burst against a cold JVM can take longer than the SDK's 1 s connection timeout, and
    // those requests fail closed (503). One throwaway burst opens and warms the connection pool.
    await Promise.all(Array.from({ length: 50 }, () => chat(freshIp(), freshSession('warm-up'))));
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await server?.stop();
  });

  it('It should run on DynamoDB Local (Java), the engine whose conditional writes are under test', () => {
    // Assess
    expect(server.output()).toMatch(/DynamoDB: DynamoDB Local \(Java\)/);
  });

  it('It should let exactly 10 of 50 concurrent requests from one fresh address through', async () => {
    // Prepare
    const ip = freshIp();

    // Act
    const responses = await Promise.all(Array.from({ length: 50 }, () => chat(ip, freshSession('burst'))));

    // Assess
    const tally = (statuses: number[]) =>
      Object.fromEntries([...new Set(statuses)].map((s) => [s, statuses.filter((t) => t === s).length]));
    expect(tally(responses.map((res) => res.status))).toEqual({ 200: 10, 429: 40 });
    const remaining = responses.filter((res) => res.status === 200).map((res) => h(res, 'x-ratelimit-remaining'));
    expect(remaining.map(Number).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describeLocalOnly('rate limiting with the counter store down (fail closed)', () => {
  let server: RunningServer;
  const { chat, mint, admin } = client(() => server);

  beforeAll(async () => {
    server = await startServer({ DYNAMODB_ENDPOINT: `http://127.0.0.1:${await closedPort()}` });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await server?.stop();
  });

  it.each<[string, (ip: string) => Promise<HttpResponse>]>([
    ['POST /v1/chat', (ip) => chat(ip, freshSession())],
    ['POST /v1/tokens', (ip) => mint(ip, 'user-a')],
    ['GET /v1/admin/conversations', (ip) => admin(ip, '/v1/admin/conversations')],
    ['a wrong widget key, whose failure cannot be counted', (ip) => chat(ip, 's', { 'X-Widget-Api-Key': 'wrong' })],
  ])('It should answer %s with 503 SERVICE_UNAVAILABLE', async (_label, send) => {
    // Act
    const res = await send(freshIp());

    // Assess
    expect(res.status).toBe(503);
    expect(res.json).toEqual({
      error: { code: 'SERVICE_UNAVAILABLE', message: 'The service is temporarily unavailable. Try again later.' },
    });
    expect(h(res, 'x-ratelimit-remaining')).toBeUndefined();
    expect(h(res, 'retry-after')).toBeUndefined();
  });
});

describeLocalOnly('rate limiting with the counter store down and RATE_LIMIT_FAIL_OPEN=true', () => {
  let server: RunningServer;
  const { chat, mint } = client(() => server);

  beforeAll(async () => {
    server = await startServer({
      DYNAMODB_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      RATE_LIMIT_FAIL_OPEN: 'true',
    });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await server?.stop();
  });

  it('It should mint a token (a route with no other DynamoDB call) with 201 and no rate-limit headers', async () => {
    // Act
    const res = await mint(freshIp(), 'user-a');

    // Assess
    expect(res.status).toBe(201);
    expect((res.json as { token: string }).token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(h(res, 'x-ratelimit-remaining')).toBeUndefined();
    await server.waitForOutput(/failing open/, 5000);
  });

  it('It should still not answer chat with 200, because the conversation store is down too', async () => {
    // Act
    const res = await chat(freshIp(), freshSession());

    // Assess
    expect(res.status).toBe(503);
    expect(errorOf(res).code).toBe('SERVICE_UNAVAILABLE');
  });

  it('It should answer a wrong key with 401, not counting the failure', async () => {
    // Act
    const res = await chat(freshIp(), 's', { 'X-Widget-Api-Key': 'wrong' });

    // Assess
    expect(res.status).toBe(401);
    expect(errorOf(res).code).toBe('UNAUTHORIZED');
  });
});
