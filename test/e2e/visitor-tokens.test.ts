/**
 * Visitor tokens over HTTP against the local server (design §14), with tokens required on chat
 * (`REQUIRE_WIDGET_TOKEN=true`, the production default): challenge → solve in Node with
 * altcha-lib's own solver → mint → chat; single use; origin binding; the visitor as a user (its
 * sessions, its rate-limit tier across addresses, user-wide revocation); the mint limit; and a
 * visitor token refused where only keys are taken.
 *
 * Each test binds its client sockets to loopback addresses of its own (127.43.x.y).
 */
import { errorOf, http, type HttpResponse } from '../helpers/http.js';
import { runServerExpectingExit, startServer, testSecrets, type RunningServer } from '../helpers/local-server.js';
import { solvePow } from '../helpers/visitor-pow.js';

const SITE = 'http://shop.localhost:8080';
const OTHER_SITE = 'http://blog.localhost:8080';
const USER_MAX = 4;
const MINT_MAX = 10;
const START_TIMEOUT_MS = 120_000;

let hosts = 0;
/** A loopback address no other test in this file uses. */
function freshIp(): string {
  hosts += 1;
  return `127.43.${Math.floor(hosts / 250)}.${(hosts % 250) + 1}`;
}

interface Minted {
  token: string;
  tokenType: string;
  expiresAt: string;
  visitorId: string;
}

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({
    REQUIRE_WIDGET_TOKEN: 'true',
    CORS_ORIGIN: `${SITE},${OTHER_SITE}`,
    ADMIN_CORS_ORIGIN: '',
    VISITOR_POW_MAX_NUMBER: '1000',
    VISITOR_TOKEN_RATE_LIMIT_MAX: String(MINT_MAX),
    RATE_LIMIT_USER_MAX: String(USER_MAX),
    RATE_LIMIT_WINDOW_MS: '3600000',
  });
}, START_TIMEOUT_MS);

afterAll(async () => {
  await server?.stop();
});

/** Calls from one client address and one page origin. */
function visitor(ip = freshIp(), origin = SITE) {
  const base = { 'X-Widget-Api-Key': server.secrets.widgetKey, Origin: origin };
  const json = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    http(`${server.url}${path}`, {
      method: 'POST',
      headers: { ...base, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
      localAddress: ip,
    });
  return {
    challenge: () => http(`${server.url}/v1/visitor-tokens/challenge`, { headers: base, localAddress: ip }),
    mint: (body: unknown) => json('/v1/visitor-tokens', body),
    chat: (token: string | undefined, sessionId: string, headers: Record<string, string> = {}) =>
      json(
        '/v1/chat',
        { sessionId, message: 'hello' },
        {
          ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
          ...headers,
        },
      ),
    history: (token: string, sessionId: string) =>
      http(`${server.url}/v1/sessions/${sessionId}/messages`, {
        headers: { ...base, Authorization: `Bearer ${token}` },
        localAddress: ip,
      }),
  };
}

/** Fetches a challenge and solves it as a client would; returns the base64 payload. */
async function solvedPow(client: ReturnType<typeof visitor>): Promise<string> {
  const res = await client.challenge();
  expect(res.status).toBe(200);
  return solvePow(res.json);
}

async function mintedFor(client: ReturnType<typeof visitor>): Promise<Minted> {
  const res = await client.mint({ pow: await solvedPow(client) });
  expect(res.status).toBe(201);
  return res.json as Minted;
}

const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
  http(`${server.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      Authorization: `Bearer ${server.secrets.adminKey}`,
      ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });

const expectCode = (res: HttpResponse, status: number, code: string) => {
  expect([res.status, errorOf(res)?.code]).toEqual([status, code]);
};

describe('visitor tokens', () => {
  it('should serve an ALTCHA challenge with the configured maxnumber, without a token', async () => {
    // Act
    const res = await visitor().challenge();

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(SITE);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json).toEqual({
      algorithm: 'SHA-256',
      challenge: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
      maxnumber: 1000,
      salt: expect.stringMatching(/^[0-9a-f]{24}\?expires=\d+&$/) as unknown,
      signature: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
    });
  });

  it('should let a visitor who solved the challenge chat with tokens required, owning the session', async () => {
    // Prepare
    const client = visitor();
    const session = `visitor-${process.pid}-1`;
    expectCode(await client.chat(undefined, session), 401, 'UNAUTHORIZED');

    // Act
    const minted = await mintedFor(client);
    const chat = await client.chat(minted.token, session);

    // Assess
    expect(minted).toMatchObject({ tokenType: 'Bearer', visitorId: expect.stringMatching(/^v_[\w-]{22}$/) as unknown });
    expect(chat.status).toBe(200);
    expect((await client.history(minted.token, session)).status).toBe(200);
    const listed = await admin(`/v1/admin/conversations?userId=${minted.visitorId}`);
    expect((listed.json as { items: { sessionId: string }[] }).items.map((i) => i.sessionId)).toEqual([session]);
    const stranger = await mintedFor(visitor());
    expectCode(await client.history(stranger.token, session), 404, 'NOT_FOUND');
    expectCode(await client.chat(stranger.token, session), 404, 'NOT_FOUND');
  });

  it('should refuse the same solution a second time', async () => {
    // Prepare
    const client = visitor();
    const pow = await solvedPow(client);
    expect((await client.mint({ pow })).status).toBe(201);

    // Act
    const again = await client.mint({ pow });

    // Assess
    expectCode(again, 400, 'CHALLENGE_FAILED');
    expect(errorOf(again)?.message).not.toContain('replay');
  });

  it('should refuse the token on another allowed origin', async () => {
    // Prepare
    const ip = freshIp();
    const minted = await mintedFor(visitor(ip, SITE));

    // Act
    const elsewhere = await visitor(ip, OTHER_SITE).chat(minted.token, `visitor-${process.pid}-2`);

    // Assess
    expectCode(elsewhere, 401, 'UNAUTHORIZED');
    expect(elsewhere.headers['www-authenticate']).toContain('invalid_token');
  });

  it('should apply the user tier to a visitor across source addresses', async () => {
    // Prepare
    const minted = await mintedFor(visitor());
    const session = `visitor-${process.pid}-3`;

    // Act
    const statuses: number[] = [];
    for (let i = 0; i <= USER_MAX; i += 1) statuses.push((await visitor().chat(minted.token, session)).status);

    // Assess
    expect(statuses).toEqual([...Array<number>(USER_MAX).fill(200), 429]);
  });

  it('should revoke every token of a visitor by its visitorId', async () => {
    // Prepare
    const client = visitor();
    const minted = await mintedFor(client);
    expect((await client.chat(minted.token, `visitor-${process.pid}-4`)).status).toBe(200);

    // Act
    const revoke = await admin('/v1/admin/tokens/revoke', { method: 'POST', body: { userId: minted.visitorId } });

    // Assess
    expect(revoke.status).toBe(204);
    expectCode(await client.chat(minted.token, `visitor-${process.pid}-4`), 401, 'UNAUTHORIZED');
  });

  it('should stop a hundred mints from one address at the mint limit', async () => {
    // Prepare
    const client = visitor();

    // Act
    const statuses: number[] = [];
    for (let i = 0; i < 100; i += 1) statuses.push((await client.mint({ pow: await solvedPow(client) })).status);

    // Assess
    expect(statuses.filter((s) => s === 201)).toHaveLength(MINT_MAX);
    expect(statuses.filter((s) => s === 429)).toHaveLength(100 - MINT_MAX);
    expect(statuses.slice(0, MINT_MAX).every((s) => s === 201)).toBe(true);
  });

  it.each([
    ['POST /v1/tokens', 'POST', '/v1/tokens', { userId: 'someone' }],
    ['GET /v1/admin/audit', 'GET', '/v1/admin/audit', undefined],
    ['POST /v1/admin/tokens/revoke', 'POST', '/v1/admin/tokens/revoke', { userId: 'someone' }],
  ])('should refuse a visitor token on %s', async (_name, method, path, body) => {
    // Prepare
    const minted = await mintedFor(visitor());

    // Act
    const res = await http(`${server.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${minted.token}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

    // Assess
    expectCode(res, 401, 'UNAUTHORIZED');
  });

  it('should audit a failed challenge once per address', async () => {
    // Prepare
    const ip = freshIp();
    const client = visitor(ip);

    // Act
    for (let i = 0; i < 3; i += 1) expectCode(await client.mint({ pow: 'AAAA' }), 400, 'CHALLENGE_FAILED');

    // Assess
    const audit = await admin('/v1/admin/audit?type=visitor.challenge_failed&limit=100');
    const mine = (audit.json as { items: { ip: string; detail: { reason: string } }[] }).items.filter(
      (e) => e.ip === ip,
    );
    expect(mine.map((e) => e.detail.reason)).toEqual(['malformed']);
  });
});

describe('VISITOR_CHALLENGE on the local server', () => {
  it(
    'should stand in for the WAF with the proof of work when VISITOR_CHALLENGE=waf',
    async () => {
      // Prepare
      const local = await startServer({ VISITOR_CHALLENGE: 'waf', CORS_ORIGIN: SITE, VISITOR_POW_MAX_NUMBER: '1000' });
      try {
        const headers = {
          'X-Widget-Api-Key': local.secrets.widgetKey,
          Origin: SITE,
          'Content-Type': 'application/json',
        };

        // Act
        const unpaid = await http(`${local.url}/v1/visitor-tokens`, { method: 'POST', headers, body: '{}' });

        // Assess
        expectCode(unpaid, 400, 'CHALLENGE_FAILED');
      } finally {
        await local.stop();
      }
    },
    START_TIMEOUT_MS,
  );

  it(
    'should refuse to start in production with VISITOR_CHALLENGE=none',
    async () => {
      // Prepare
      const secrets = testSecrets();

      // Act
      const { code, output } = await runServerExpectingExit({
        APP_ENV: 'production',
        CORS_ORIGIN: SITE,
        VISITOR_CHALLENGE: 'none',
        WIDGET_API_KEY: secrets.widgetKey,
        ADMIN_API_KEY: secrets.adminKey,
        SERVER_API_KEY: secrets.serverKey,
        WIDGET_SIGNING_SECRET: secrets.signingSecret,
      });

      // Assess
      expect(code).not.toBeNull();
      expect(code).not.toBe(0);
      expect(output).toContain('VISITOR_CHALLENGE must be pow or waf when APP_ENV=production');
      expect(output).not.toMatch(/listening on/);
    },
    START_TIMEOUT_MS,
  );
});
