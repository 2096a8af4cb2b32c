import { build as buildChat } from '../../../../lambdas/handlers/post-chat.js';
import { defineHandler } from '../../../../lambdas/http/handler.js';
import { json } from '../../../../lambdas/http/responses.js';
import { ServiceUnavailableError } from '../../../../lambdas/lib/errors.js';
import type { SecretSnapshot } from '../../../../lambdas/lib/secrets.js';
import { mintWidgetToken } from '../../../../lambdas/lib/tokens.js';
import {
  T0,
  chatRequest,
  errorOf,
  fakeRuntime,
  invoke,
  makeKeys,
  snapshotOf,
  type EventInput,
  type FakeRuntime,
  type TestKeys,
} from '../../../helpers/fake-runtime.js';

/** One probe handler per credential kind; each answers with the actor the chain established. */
const probe = (auth: 'widget' | 'admin' | 'server') =>
  defineHandler({ auth }, async ({ state }) => json(200, { actor: state.actor }));
const ROUTES = {
  widget: { handler: probe('widget'), method: 'POST', path: '/v1/chat' },
  admin: { handler: probe('admin'), method: 'GET', path: '/v1/admin/audit' },
  server: { handler: probe('server'), method: 'POST', path: '/v1/tokens' },
} as const;
type Kind = keyof typeof ROUTES;

/** How a credential is presented. */
type Presenter = (keys: TestKeys) => Record<string, string>;
const widgetHeader =
  (pick: (k: TestKeys) => string): Presenter =>
  (keys) => ({ 'X-Widget-Api-Key': pick(keys) });
const bearer =
  (pick: (k: TestKeys) => string): Presenter =>
  (keys) => ({ Authorization: `Bearer ${pick(keys)}` });

async function call(fake: FakeRuntime, kind: Kind, headers: Record<string, string>, sourceIp?: string) {
  const route = ROUTES[kind];
  const request: EventInput = { method: route.method, path: route.path, headers, sourceIp };
  return invoke(route.handler.build(fake.runtime), request);
}

describe('auth middleware', () => {
  it.each<[string, Kind, Presenter, string]>([
    ['the widget key in X-Widget-Api-Key on a widget route', 'widget', widgetHeader((k) => k.widget), 'anonymous'],
    ['the admin key as a Bearer on an admin route', 'admin', bearer((k) => k.admin), 'admin'],
    ['the server key as a Bearer on a server route', 'server', bearer((k) => k.server), 'server'],
    ['the admin key (role admin covers tokens:mint) on a server route', 'server', bearer((k) => k.admin), 'admin'],
    ['a lower-case bearer scheme', 'admin', (k) => ({ Authorization: `bearer ${k.admin}` }), 'admin'],
    ['extra blanks around a bearer token', 'admin', (k) => ({ Authorization: `Bearer   ${k.admin}  ` }), 'admin'],
    ['a lower-case header name', 'widget', (k) => ({ 'x-widget-api-key': k.widget }), 'anonymous'],
  ])('It should accept %s', async (_label, kind, present, actor) => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await call(fake, kind, present(fake.keys));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({ actor });
  });

  it.each<[string, Kind, Presenter, string]>([
    ['no credential on a widget route', 'widget', () => ({}), 'missing'],
    ['no credential on an admin route', 'admin', () => ({}), 'missing'],
    ['no credential on a server route', 'server', () => ({}), 'missing'],
    ['a wrong widget key', 'widget', widgetHeader(() => 'not-the-key'), 'mismatch'],
    ['an empty widget key', 'widget', widgetHeader(() => ''), 'missing'],
    ['the widget key with a trailing blank', 'widget', widgetHeader((k) => `${k.widget} `), 'mismatch'],
    ['a prefix of the widget key', 'widget', widgetHeader((k) => k.widget.slice(0, -1)), 'mismatch'],
    ['a widget key over 4096 characters', 'widget', widgetHeader((k) => k.widget.repeat(100)), 'missing'],
    ['the admin key on a widget route', 'widget', widgetHeader((k) => k.admin), 'mismatch'],
    ['the server key on a widget route', 'widget', widgetHeader((k) => k.server), 'mismatch'],
    ['the signing secret on a widget route', 'widget', widgetHeader((k) => k.signing), 'mismatch'],
    ['only a Bearer with the widget key on a widget route', 'widget', bearer((k) => k.widget), 'missing'],
    ['the widget key as a Bearer on an admin route', 'admin', bearer((k) => k.widget), 'mismatch'],
    ['the widget key on a server route', 'server', bearer((k) => k.widget), 'mismatch'],
    ['the admin key in X-Widget-Api-Key on an admin route', 'admin', widgetHeader((k) => k.admin), 'missing'],
    ['the admin key without a scheme', 'admin', (k) => ({ Authorization: k.admin }), 'missing'],
    ['the admin key with the Basic scheme', 'admin', (k) => ({ Authorization: `Basic ${k.admin}` }), 'missing'],
    ['the admin key with the Token scheme', 'admin', (k) => ({ Authorization: `Token ${k.admin}` }), 'missing'],
    ['a Bearer scheme with no token', 'admin', () => ({ Authorization: 'Bearer ' }), 'missing'],
    ['a Bearer token containing a space', 'admin', (k) => ({ Authorization: `Bearer ${k.admin} x` }), 'missing'],
    ['a Bearer token over 4096 characters', 'admin', bearer((k) => k.admin.repeat(100)), 'missing'],
    ['the admin key followed by a comma and more', 'admin', bearer((k) => `${k.admin},x`), 'mismatch'],
  ])('It should answer 401 UNAUTHORIZED for %s and audit it', async (_label, kind, present, reason) => {
    // Prepare
    const fake = fakeRuntime();
    const headers = present(fake.keys);

    // Act
    const response = await call(fake, kind, headers);

    // Assess
    expect(response.statusCode).toBe(401);
    expect(errorOf(response)).toEqual({ code: 'UNAUTHORIZED', message: 'Missing or invalid credentials.' });
    expect(fake.auditStore.ofType('auth.failure')).toEqual([
      expect.objectContaining({ type: 'auth.failure', actor: 'anonymous', detail: { reason, credential: kind } }),
    ]);
  });

  it.each<[Kind, string | undefined]>([
    ['admin', 'Bearer realm="chat-widget"'],
    ['server', 'Bearer realm="chat-widget"'],
    ['widget', undefined],
  ])('It should send the right WWW-Authenticate challenge on a %s route', async (kind, challenge) => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await call(fake, kind, {});

    // Assess
    expect(response.statusCode).toBe(401);
    expect(response.headers['WWW-Authenticate']).toBe(challenge);
  });

  it('It should record who, where and what in the auth.failure event, never the credential', async () => {
    // Prepare
    const fake = fakeRuntime();
    const wrong = 'Wr0ngKeyValue-that-must-not-be-stored';

    // Act
    const response = await call(
      fake,
      'admin',
      { Authorization: `Bearer ${wrong}`, 'X-Request-Id': 'req-1', 'X-Forwarded-For': '10.9.9.9' },
      '198.51.100.23',
    );

    // Assess
    expect(response.statusCode).toBe(401);
    expect(fake.auditStore.aggregated).toEqual([
      {
        type: 'auth.failure',
        actor: 'anonymous',
        ip: '198.51.100.23',
        method: 'GET',
        route: '/v1/admin/audit',
        requestId: 'req-1',
        at: T0,
        detail: { reason: 'mismatch', credential: 'admin' },
      },
    ]);
    const stored = JSON.stringify(fake.auditStore.all());
    for (const value of [wrong, fake.keys.admin, fake.keys.widget, fake.keys.server]) {
      expect(stored).not.toContain(value);
    }
  });

  it('It should not audit a successful authentication as a failure', async () => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    await call(fake, 'widget', { 'X-Widget-Api-Key': fake.keys.widget });

    // Assess
    expect(fake.auditStore.ofType('auth.failure')).toEqual([]);
  });

  describe('rotation', () => {
    const GRACE_SECONDS = 3600;

    function rotated(): { fake: FakeRuntime; old: TestKeys } {
      const keys = makeKeys();
      const old = makeKeys();
      const snapshot = snapshotOf(keys, T0);
      const withPrevious = Object.fromEntries(
        Object.entries(snapshot).map(([name, entry]) => [
          name,
          {
            ...entry,
            previous: {
              versionId: 'old',
              value:
                old[
                  (
                    {
                      'widget-api-key': 'widget',
                      'admin-api-key': 'admin',
                      'server-api-key': 'server',
                      'widget-signing-secret': 'signing',
                      'webhook-signing-secret': 'webhook',
                    } as const
                  )[name as keyof SecretSnapshot]
                ],
              createdAt: T0 - 86400_000,
            },
          },
        ]),
      ) as unknown as SecretSnapshot;
      const fake = fakeRuntime({ keys, snapshot: withPrevious, env: { SECRET_GRACE_SECONDS: String(GRACE_SECONDS) } });
      return { fake, old };
    }

    it.each<[Kind, Presenter]>([
      ['widget', widgetHeader((k) => k.widget)],
      ['admin', bearer((k) => k.admin)],
      ['server', bearer((k) => k.server)],
    ])('It should accept the previous %s key until the grace period ends, then refuse it', async (kind, present) => {
      // Prepare
      const { fake, old } = rotated();

      // Act
      fake.clock.set(T0 + GRACE_SECONDS * 1000 - 1);
      const justBefore = await call(fake, kind, present(old));
      fake.clock.set(T0 + GRACE_SECONDS * 1000);
      const atTheEnd = await call(fake, kind, present(old));
      const current = await call(fake, kind, present(fake.keys));

      // Assess
      expect(justBefore.statusCode).toBe(200);
      expect(atTheEnd.statusCode).toBe(401);
      expect(current.statusCode).toBe(200);
    });

    it('It should hold a previous key to the role of its kind (the old server key cannot read the admin API)', async () => {
      // Prepare
      const { fake, old } = rotated();

      // Act
      const response = await call(fake, 'admin', { Authorization: `Bearer ${old.server}` });

      // Assess
      expect(response.statusCode).toBe(403);
      expect(errorOf(response).code).toBe('FORBIDDEN');
    });
  });

  describe('when the secrets cannot be read', () => {
    it('It should fail closed with 503 SERVICE_UNAVAILABLE and no detail', async () => {
      // Prepare
      const fake = fakeRuntime();
      fake.source.failure = new Error('AccessDeniedException: arn:aws:secretsmanager:us-east-1:123:secret:admin');

      // Act
      const response = await call(fake, 'admin', { Authorization: `Bearer ${fake.keys.admin}` });

      // Assess
      expect(response.statusCode).toBe(503);
      expect(errorOf(response)).toEqual({
        code: 'SERVICE_UNAVAILABLE',
        message: 'The service is temporarily unavailable. Try again later.',
      });
      expect(response.body).not.toContain('arn:aws');
    });

    it('It should fail closed with 503 when production secrets are weak', async () => {
      // Prepare
      const keys = { ...makeKeys(), admin: 'changeme-changeme-changeme-changeme' };
      const fake = fakeRuntime({
        keys,
        env: { APP_ENV: 'production', CORS_ORIGIN: 'https://app.example.com' },
      });

      // Act
      const response = await call(fake, 'admin', { Authorization: `Bearer ${keys.admin}` });

      // Assess
      expect(response.statusCode).toBe(503);
      expect(errorOf(response).code).toBe('SERVICE_UNAVAILABLE');
      expect(response.body).not.toContain('admin-api-key');
    });
  });

  describe('widget tokens', () => {
    const INVALID_TOKEN_CHALLENGE = 'Bearer realm="chat-widget", error="invalid_token"';

    async function mint(keys: TestKeys, userId = 'user-1', expiresInSeconds = 600, now = T0): Promise<string> {
      return (await mintWidgetToken(keys.signing, { userId, expiresInSeconds }, {}, now)).token;
    }

    it('It should accept a valid token next to the widget key and act as its user', async () => {
      // Prepare
      const fake = fakeRuntime();
      const token = await mint(fake.keys);

      // Act
      const response = await call(fake, 'widget', {
        'X-Widget-Api-Key': fake.keys.widget,
        Authorization: `Bearer ${token}`,
      });

      // Assess
      expect(response.statusCode).toBe(200);
      expect(response.json).toEqual({ actor: 'user:user-1' });
    });

    it('It should still require the widget key when a valid token is presented', async () => {
      // Prepare
      const fake = fakeRuntime();
      const token = await mint(fake.keys);

      // Act
      const response = await call(fake, 'widget', { Authorization: `Bearer ${token}` });

      // Assess
      expect(response.statusCode).toBe(401);
      expect(fake.auditStore.ofType('auth.failure')).toHaveLength(1);
    });

    it.each<[string, (keys: TestKeys) => Promise<string>]>([
      ['an empty Authorization header', async () => ''],
      ['a Basic credential', async () => 'Basic dXNlcjpwYXNz'],
      ['the widget key as a Bearer', async (k) => `Bearer ${k.widget}`],
      ['an unsigned token (alg none)', async () => 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyLTEifQ.'],
      [
        'a token signed with another secret',
        async (k) => `Bearer ${await mint({ ...k, signing: makeKeys().signing })}`,
      ],
      ['a token signed with the widget key', async (k) => `Bearer ${await mint({ ...k, signing: k.widget })}`],
      [
        'a token with a flipped signature',
        async (k) => {
          // Always a different character (a fixed replacement would match 1 signature in 1024).
          const token = await mint(k);
          const flipped = token.at(-2) === 'A' ? 'B' : 'A';
          return `Bearer ${token.slice(0, -2)}${flipped}${token.slice(-1)}`;
        },
      ],
      ['a token over 4096 characters', async () => `Bearer ${'a'.repeat(4097)}`],
    ])('It should answer 401 for %s on a widget route, never falling back to anonymous', async (_label, make) => {
      // Prepare
      const fake = fakeRuntime();
      const authorization = await make(fake.keys);

      // Act
      const response = await call(fake, 'widget', {
        'X-Widget-Api-Key': fake.keys.widget,
        Authorization: authorization,
      });

      // Assess
      expect(response.statusCode).toBe(401);
      expect(errorOf(response).code).toBe('UNAUTHORIZED');
      expect(response.headers['WWW-Authenticate']).toBe(INVALID_TOKEN_CHALLENGE);
      expect(fake.auditStore.ofType('token.invalid')).toEqual([
        expect.objectContaining({
          actor: 'anonymous',
          detail: { reason: expect.any(String) as unknown, credential: 'widget-token' },
        }),
      ]);
    });

    it('It should answer 401 TOKEN_EXPIRED for a genuine token past its expiry and tolerance', async () => {
      // Prepare
      const fake = fakeRuntime();
      const token = await mint(fake.keys, 'user-1', 600);
      fake.clock.advance((600 + 61) * 1000);

      // Act
      const response = await call(fake, 'widget', {
        'X-Widget-Api-Key': fake.keys.widget,
        Authorization: `Bearer ${token}`,
      });

      // Assess
      expect(response.statusCode).toBe(401);
      expect(errorOf(response).code).toBe('TOKEN_EXPIRED');
    });

    it('It should refuse a revoked token', async () => {
      // Prepare
      const fake = fakeRuntime();
      const minted = await mintWidgetToken(fake.keys.signing, { userId: 'user-1', expiresInSeconds: 600 }, {}, T0);
      await fake.revocations.revokeToken(minted.jti, Math.floor(T0 / 1000) + 600);

      // Act
      const response = await call(fake, 'widget', {
        'X-Widget-Api-Key': fake.keys.widget,
        Authorization: `Bearer ${minted.token}`,
      });

      // Assess
      expect(response.statusCode).toBe(401);
      expect(fake.auditStore.ofType('token.invalid')).toEqual([
        expect.objectContaining({ actor: 'user:user-1', detail: { reason: 'revoked' } }),
      ]);
    });

    it('It should refuse a revoked token as revoked even past a rate limit: its verdict is taken first', async () => {
      // Prepare: the revocation lookup and the rate-limit counters go out together (issue 20).
      const fake = fakeRuntime({ env: { RATE_LIMIT_MAX_REQUESTS: '1' } });
      const minted = await mintWidgetToken(fake.keys.signing, { userId: 'user-1', expiresInSeconds: 600 }, {}, T0);
      await fake.revocations.revokeToken(minted.jti, Math.floor(T0 / 1000) + 600);
      const headers = { 'X-Widget-Api-Key': fake.keys.widget, Authorization: `Bearer ${minted.token}` };

      // Act
      const responses = [await call(fake, 'widget', headers), await call(fake, 'widget', headers)];

      // Assess
      expect(responses.map((r) => [r.statusCode, errorOf(r).code])).toEqual([
        [401, 'UNAUTHORIZED'],
        [401, 'UNAUTHORIZED'],
      ]);
    });

    it('It should fail closed with 503 when the revocation store cannot answer', async () => {
      // Prepare
      const fake = fakeRuntime();
      const token = await mint(fake.keys);
      fake.revocations.failure = new ServiceUnavailableError();

      // Act
      const response = await call(fake, 'widget', {
        'X-Widget-Api-Key': fake.keys.widget,
        Authorization: `Bearer ${token}`,
      });

      // Assess
      expect(response.statusCode).toBe(503);
    });

    it.each([
      ['REQUIRE_WIDGET_TOKEN=true', { REQUIRE_WIDGET_TOKEN: 'true' }, 401],
      ['REQUIRE_WIDGET_TOKEN=false', { REQUIRE_WIDGET_TOKEN: 'false' }, 200],
      ['production defaults', { APP_ENV: 'production', CORS_ORIGIN: 'https://app.example.com' }, 401],
    ])('It should enforce a missing token according to %s', async (_label, env, status) => {
      // Prepare
      const fake = fakeRuntime({ env });

      // Act
      const response = await call(fake, 'widget', { 'X-Widget-Api-Key': fake.keys.widget });

      // Assess
      expect(response.statusCode).toBe(status);
    });
  });

  it('It should let the real chat handler through with the widget key only', async () => {
    // Prepare
    const fake = fakeRuntime();
    const chat = buildChat(fake.runtime);

    // Act
    const withKey = await invoke(chat, chatRequest(fake.keys.widget));
    const withAdminKey = await invoke(chat, chatRequest(fake.keys.admin));

    // Assess
    expect(withKey.statusCode).toBe(200);
    expect(withAdminKey.statusCode).toBe(401);
    expect(fake.conversations.sessions.size).toBe(1);
  });
});
