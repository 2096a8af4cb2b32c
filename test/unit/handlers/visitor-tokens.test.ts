/**
 * The visitor-token routes in the security chain, on fakes with a frozen clock (design §14):
 * challenge → solve → mint, single use, expiry, the audit bound, the mint limit, the origin
 * requirement, `VISITOR_CHALLENGE=none`, and the visitor as a user on the chat routes.
 */
import { build as buildChallenge } from '../../../lambdas/handlers/visitor-challenge.js';
import { build as buildMint } from '../../../lambdas/handlers/mint-visitor-token.js';
import { build as buildChat } from '../../../lambdas/handlers/post-chat.js';
import { loadConfig } from '../../../lambdas/lib/config.js';
import { ConfigurationError } from '../../../lambdas/lib/errors.js';
import { verifyWidgetToken } from '../../../lambdas/lib/tokens.js';
import {
  chatRequest,
  errorOf,
  fakeRuntime,
  invoke,
  type FakeRuntime,
  type TestResponse,
} from '../../helpers/fake-runtime.js';
import { solvePow } from '../../helpers/visitor-pow.js';

const SITE = 'https://shop.example.com';
const OTHER_SITE = 'https://blog.example.com';
const ENV = {
  CORS_ORIGIN: `${SITE},${OTHER_SITE}`,
  VISITOR_POW_MAX_NUMBER: '1000',
  REQUIRE_WIDGET_TOKEN: 'true',
};

function routes(fake: FakeRuntime) {
  const challenge = buildChallenge(fake.runtime);
  const mint = buildMint(fake.runtime);
  // `null`: no Origin header at all (a default parameter would turn undefined into SITE).
  const headers = (origin: string | null) => ({
    'X-Widget-Api-Key': fake.keys.widget,
    ...(origin === null ? {} : { Origin: origin }),
  });
  return {
    challenge: (origin: string | null = SITE, sourceIp?: string) =>
      invoke(challenge, { method: 'GET', path: '/v1/visitor-tokens/challenge', headers: headers(origin), sourceIp }),
    mint: (body: unknown, origin: string | null = SITE, sourceIp?: string) =>
      invoke(mint, {
        method: 'POST',
        path: '/v1/visitor-tokens',
        headers: { ...headers(origin), 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        sourceIp,
      }),
  };
}

/** Solves a challenge response with altcha-lib's solver into the base64 payload the widget sends. */
const powFor = (response: TestResponse): Promise<string> => solvePow(response.json);

const auditTypes = (fake: FakeRuntime) => fake.auditStore.all().map((e) => e.type);

describe('visitor tokens', () => {
  it('should mint a token for the visitor bound to the Origin, for a solved challenge', async () => {
    // Prepare
    const fake = fakeRuntime({ env: ENV });
    const api = routes(fake);
    const pow = await powFor(await api.challenge());

    // Act
    const minted = await api.mint({ pow });

    // Assess
    expect(minted.statusCode).toBe(201);
    const body = minted.json as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'token', 'tokenType', 'visitorId']);
    expect(body.visitorId).toMatch(/^v_[A-Za-z0-9_-]{22}$/);
    expect(body.expiresAt).toBe(new Date(fake.clock.now() + 3600_000).toISOString());
    const verified = await verifyWidgetToken(
      body.token as string,
      [fake.keys.signing],
      { maxTtlSeconds: 86400 },
      fake.clock.now(),
    );
    expect(verified).toMatchObject({ userId: body.visitorId, origin: SITE, anon: true });
  });

  it('should give each visitor its own id', async () => {
    // Prepare
    const fake = fakeRuntime({ env: ENV });
    const api = routes(fake);

    // Act
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push((await api.mint({ pow: await powFor(await api.challenge()) })).json);

    // Assess
    expect(new Set(ids.map((b) => (b as { visitorId: string }).visitorId)).size).toBe(3);
  });

  it('should refuse the same solution twice, also with extra fields changed', async () => {
    // Prepare
    const fake = fakeRuntime({ env: ENV });
    const api = routes(fake);
    const pow = await powFor(await api.challenge());
    const payload = JSON.parse(Buffer.from(pow, 'base64').toString()) as Record<string, unknown>;
    await api.mint({ pow });

    // Act
    const again = await api.mint({ pow });
    const varied = await api.mint({ pow: Buffer.from(JSON.stringify({ ...payload, took: 1 })).toString('base64') });

    // Assess
    for (const response of [again, varied]) {
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('CHALLENGE_FAILED');
    }
  });

  it('should refuse a solution once its challenge has expired', async () => {
    // Prepare
    const fake = fakeRuntime({ env: ENV });
    const api = routes(fake);
    const pow = await powFor(await api.challenge());
    fake.clock.advance(300_000);

    // Act
    const late = await api.mint({ pow });

    // Assess
    expect([late.statusCode, errorOf(late).code]).toEqual([400, 'CHALLENGE_FAILED']);
  });

  it.each([
    ['no pow', {}],
    ['a pow that is no payload', { pow: 'bm90IGEgcGF5bG9hZA==' }],
  ])('should answer %s with 400 CHALLENGE_FAILED', async (_name, body) => {
    // Prepare
    const fake = fakeRuntime({ env: ENV });

    // Act
    const response = await routes(fake).mint(body);

    // Assess
    expect([response.statusCode, errorOf(response).code]).toEqual([400, 'CHALLENGE_FAILED']);
  });

  it('should audit failed challenges at most once per address and window', async () => {
    // Prepare
    const fake = fakeRuntime({ env: { ...ENV, VISITOR_TOKEN_RATE_LIMIT_MAX: '100' } });
    const api = routes(fake);

    // Act
    for (let i = 0; i < 5; i += 1) await api.mint({}, SITE, '198.51.100.1');
    await api.mint({}, SITE, '198.51.100.2');
    fake.clock.advance(120_000);
    await api.mint({}, SITE, '198.51.100.1');

    // Assess
    const failures = fake.auditStore.ofType('visitor.challenge_failed');
    expect(failures.map((e) => [e.ip, e.detail?.reason])).toEqual([
      ['198.51.100.1', 'missing'],
      ['198.51.100.2', 'missing'],
      ['198.51.100.1', 'missing'],
    ]);
  });

  it('should limit mints per address to VISITOR_TOKEN_RATE_LIMIT_MAX', async () => {
    // Prepare
    const fake = fakeRuntime({ env: { ...ENV, VISITOR_CHALLENGE: 'none', VISITOR_TOKEN_RATE_LIMIT_MAX: '3' } });
    const api = routes(fake);

    // Act
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await api.mint({}, SITE, '198.51.100.9')).statusCode);
    const elsewhere = await api.mint({}, SITE, '198.51.100.10');

    // Assess
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    expect(elsewhere.statusCode).toBe(201);
    expect(auditTypes(fake)).toContain('rate_limit.exceeded');
  });

  it('should refuse a mint request without Origin with 403 ORIGIN_NOT_ALLOWED', async () => {
    // Prepare
    const fake = fakeRuntime({ env: { ...ENV, VISITOR_CHALLENGE: 'none' } });

    // Act
    const response = await routes(fake).mint({}, null);

    // Assess
    expect([response.statusCode, errorOf(response).code]).toEqual([403, 'ORIGIN_NOT_ALLOWED']);
  });

  it('should serve a challenge without Origin, as a same-origin page fetches it', async () => {
    // Prepare
    const fake = fakeRuntime({ env: ENV });

    // Act
    const response = await routes(fake).challenge(null);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ algorithm: 'SHA-256', maxnumber: 1000 });
  });

  it('should refuse a challenge from an origin not on the allow-list', async () => {
    // Prepare
    const fake = fakeRuntime({ env: ENV });

    // Act
    const response = await routes(fake).challenge('https://evil.example.net');

    // Assess
    expect([response.statusCode, errorOf(response).code]).toEqual([403, 'ORIGIN_NOT_ALLOWED']);
  });

  it('should let the visitor chat from its own origin only, owning its session', async () => {
    // Prepare
    const fake = fakeRuntime({ env: { ...ENV, VISITOR_CHALLENGE: 'none' } });
    const chat = buildChat(fake.runtime);
    const { token, visitorId } = (await routes(fake).mint({})).json as { token: string; visitorId: string };
    const bearer = { Authorization: `Bearer ${token}` };

    // Act
    const own = await invoke(chat, chatRequest(fake.keys.widget, undefined, { ...bearer, Origin: SITE }));
    const other = await invoke(chat, chatRequest(fake.keys.widget, undefined, { ...bearer, Origin: OTHER_SITE }));
    const none = await invoke(chat, chatRequest(fake.keys.widget, undefined, bearer));

    // Assess
    expect(own.statusCode).toBe(200);
    expect(fake.conversations.sessions.get('session-1')?.owner).toBe(`user:${visitorId}`);
    for (const refused of [other, none]) {
      expect([refused.statusCode, errorOf(refused).code]).toEqual([401, 'UNAUTHORIZED']);
    }
    expect(fake.auditStore.ofType('token.invalid').map((e) => e.detail?.reason)).toEqual([
      'origin_mismatch',
      'origin_mismatch',
    ]);
  });
});

describe('visitor configuration', () => {
  it('should refuse VISITOR_CHALLENGE=none in production', () => {
    // Act
    const act = () => loadConfig({ APP_ENV: 'production', CORS_ORIGIN: SITE, VISITOR_CHALLENGE: 'none' });

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(/VISITOR_CHALLENGE must be pow or waf/);
  });

  it('should refuse a visitor token lifetime longer than any widget token may live', () => {
    // Act / Assess
    expect(() => loadConfig({ VISITOR_TOKEN_TTL_SECONDS: '7200', WIDGET_TOKEN_MAX_TTL_SECONDS: '3600' })).toThrow(
      /VISITOR_TOKEN_TTL_SECONDS must be at most WIDGET_TOKEN_MAX_TTL_SECONDS/,
    );
  });

  it('should default to pow, 100000, 3600 s and 10 mints per window', () => {
    // Act
    const config = loadConfig({});

    // Assess
    expect(config.visitor).toEqual({ challenge: 'pow', powMaxNumber: 100000, tokenTtlSeconds: 3600 });
    expect(config.rateLimit.visitorTokenMax).toBe(10);
  });
});
