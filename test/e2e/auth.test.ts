/**
 * Authentication over HTTP (design §4): each route takes exactly one credential in exactly one
 * place, near misses are refused, a key never opens routes beyond its role, a present-but-bad
 * `Authorization` never falls back to anonymous, and failures land in the audit trail.
 */
import { randomUUID } from 'node:crypto';
import { http, postJson, type HttpResponse } from '../helpers/http.js';
import { startTarget, type RunningServer, type TestSecrets } from '../helpers/local-server.js';

/** The challenge of every Bearer route (docs/api.md). */
const BEARER_CHALLENGE = 'Bearer realm="chat-widget"';

interface AuditItem {
  readonly type: string;
  readonly actor: string;
  readonly ip: string;
  readonly method: string;
  readonly route: string;
  readonly count: number;
  readonly detail: Record<string, unknown>;
}

const errorCode = (response: HttpResponse): unknown => (response.json as { error?: { code?: unknown } }).error?.code;

/** Changes the case of every letter, so the value differs but has the same length and characters. */
const swapCase = (value: string): string =>
  [...value].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');

describe('authentication', () => {
  let server: RunningServer;
  let secrets: TestSecrets;
  let sequence = 0;

  const chat = (headers: Record<string, string>): Promise<HttpResponse> => {
    sequence += 1;
    return postJson(`${server.url}/v1/chat`, { sessionId: `auth-${sequence}`, message: 'hello' }, headers);
  };

  beforeAll(async () => {
    // Generous rate limits, so that a later rate-limit tier cannot turn these 401s into 429s.
    server = await startTarget({ RATE_LIMIT_MAX_REQUESTS: '100000', AUTH_FAILURE_LIMIT: '100000' });
    secrets = server.secrets;
  });
  afterAll(async () => {
    await server.stop();
  });

  // First in the file on purpose: unauthenticated events are budgeted per instance (20 aggregate
  // writes a second), so this runs while the budget is unspent and every failure is stored.
  describe('audit of failures', () => {
    it('It should list failed authentications as aggregated auth.failure events without the presented values', async () => {
      // Prepare
      const wrongWidgetKey = `wrong-widget-${randomUUID()}`;
      const wrongAdminKey = `wrong-admin-${randomUUID()}`;

      // Act
      for (let i = 0; i < 3; i += 1) {
        const refused = await postJson(
          `${server.url}/chat`,
          { sessionId: 'audit-probe', message: 'hi' },
          { 'X-Widget-Api-Key': wrongWidgetKey },
        );
        expect(refused.status).toBe(401);
      }
      for (let i = 0; i < 2; i += 1) {
        const refused = await http(`${server.url}/v1/admin/conversations/audit-probe`, {
          headers: { Authorization: `Bearer ${wrongAdminKey}` },
        });
        expect(refused.status).toBe(401);
      }
      const listed = await http(`${server.url}/v1/admin/audit?type=auth.failure&limit=100`, {
        headers: { Authorization: `Bearer ${secrets.adminKey}` },
      });

      // Assess
      expect(listed.status).toBe(200);
      const items = (listed.json as { items: AuditItem[] }).items;
      expect(items.length).toBeGreaterThan(0);
      expect(items.every((item) => item.type === 'auth.failure')).toBe(true);
      const onChat = items.filter((item) => item.route === '/chat');
      const onAdmin = items.filter((item) => item.route === '/v1/admin/conversations/{sessionId}');
      // Aggregated per minute: the events may straddle a minute boundary, so sum the counts.
      expect(onChat.reduce((sum, item) => sum + item.count, 0)).toBe(3);
      expect(onAdmin.reduce((sum, item) => sum + item.count, 0)).toBe(2);
      for (const item of onChat) {
        expect(item).toMatchObject({ actor: 'anonymous', ip: '127.0.0.1', method: 'POST' });
        expect(item.detail).toMatchObject({ credential: 'widget', reason: 'mismatch' });
      }
      for (const item of onAdmin) {
        expect(item).toMatchObject({ actor: 'anonymous', ip: '127.0.0.1', method: 'GET' });
        expect(item.detail).toMatchObject({ credential: 'admin', reason: 'mismatch' });
      }
      expect(listed.text).not.toContain(wrongWidgetKey);
      expect(listed.text).not.toContain(wrongAdminKey);
    });
  });

  describe('widget key (X-Widget-Api-Key)', () => {
    it('It should accept the widget key', async () => {
      // Act
      const response = await chat({ 'X-Widget-Api-Key': secrets.widgetKey });

      // Assess
      expect(response.status).toBe(200);
    });

    it('It should treat spaces around the key as HTTP optional whitespace, not as part of the key', async () => {
      // Act: leading and trailing SP/HTAB are not part of a field value (RFC 9110 §5.5).
      const response = await chat({ 'X-Widget-Api-Key': ` ${secrets.widgetKey} ` });

      // Assess
      expect(response.status).toBe(200);
    });

    const refused: readonly { kind: string; headers: () => Record<string, string> }[] = [
      { kind: 'no key', headers: () => ({}) },
      { kind: 'an empty key', headers: () => ({ 'X-Widget-Api-Key': '' }) },
      { kind: 'a wrong key', headers: () => ({ 'X-Widget-Api-Key': `k-${randomUUID()}-${randomUUID()}` }) },
      { kind: 'an overlong key', headers: () => ({ 'X-Widget-Api-Key': secrets.widgetKey.repeat(110) }) },
      { kind: 'the admin key', headers: () => ({ 'X-Widget-Api-Key': secrets.adminKey }) },
      { kind: 'the server key', headers: () => ({ 'X-Widget-Api-Key': secrets.serverKey }) },
      { kind: 'the signing secret', headers: () => ({ 'X-Widget-Api-Key': secrets.signingSecret }) },
      { kind: 'the key with a suffix', headers: () => ({ 'X-Widget-Api-Key': `${secrets.widgetKey}x` }) },
      { kind: 'the key with a prefix', headers: () => ({ 'X-Widget-Api-Key': `x${secrets.widgetKey}` }) },
      {
        kind: 'the key minus its last character',
        headers: () => ({ 'X-Widget-Api-Key': secrets.widgetKey.slice(0, -1) }),
      },
      { kind: 'the key with its case swapped', headers: () => ({ 'X-Widget-Api-Key': swapCase(secrets.widgetKey) }) },
      { kind: 'the key twice', headers: () => ({ 'X-Widget-Api-Key': secrets.widgetKey.repeat(2) }) },
      {
        kind: 'the key with a space inside',
        headers: () => ({ 'X-Widget-Api-Key': `${secrets.widgetKey.slice(0, 16)} ${secrets.widgetKey.slice(16)}` }),
      },
      { kind: 'the key then another word', headers: () => ({ 'X-Widget-Api-Key': `${secrets.widgetKey} extra` }) },
      {
        kind: 'the key with a "Bearer" prefix',
        headers: () => ({ 'X-Widget-Api-Key': `Bearer ${secrets.widgetKey}` }),
      },
      { kind: 'the key then a no-break space', headers: () => ({ 'X-Widget-Api-Key': `${secrets.widgetKey}\u00a0` }) },
      { kind: 'the key in Authorization instead', headers: () => ({ Authorization: `Bearer ${secrets.widgetKey}` }) },
      {
        kind: 'the key and also the key as a Bearer token',
        headers: () => ({ 'X-Widget-Api-Key': secrets.widgetKey, Authorization: `Bearer ${secrets.widgetKey}` }),
      },
      {
        kind: 'the key and a junk Bearer token',
        headers: () => ({ 'X-Widget-Api-Key': secrets.widgetKey, Authorization: 'Bearer not-a-token' }),
      },
      {
        kind: 'the key and the admin key as a Bearer token',
        headers: () => ({ 'X-Widget-Api-Key': secrets.widgetKey, Authorization: `Bearer ${secrets.adminKey}` }),
      },
      {
        kind: 'the key and an empty Authorization header',
        headers: () => ({ 'X-Widget-Api-Key': secrets.widgetKey, Authorization: '' }),
      },
    ];

    it.each(refused)('It should refuse $kind on the chat route with 401 UNAUTHORIZED', async ({ headers }) => {
      // Act
      const response = await chat(headers());

      // Assess
      expect(response.status).toBe(401);
      expect(errorCode(response)).toBe('UNAUTHORIZED');
    });

    it('It should refuse a bad key on the /chat alias too', async () => {
      // Act
      const response = await postJson(
        `${server.url}/chat`,
        { sessionId: 'alias', message: 'hi' },
        { 'X-Widget-Api-Key': secrets.adminKey },
      );

      // Assess
      expect(response.status).toBe(401);
      expect(errorCode(response)).toBe('UNAUTHORIZED');
    });
  });

  describe('admin key (Authorization: Bearer)', () => {
    const adminUrl = () => `${server.url}/v1/admin/conversations`;

    it.each([
      { kind: 'Bearer', scheme: 'Bearer' },
      { kind: 'lower-case bearer', scheme: 'bearer' },
      { kind: 'upper-case BEARER', scheme: 'BEARER' },
    ])('It should accept the admin key with the $kind scheme', async ({ scheme }) => {
      // Act
      const response = await http(adminUrl(), { headers: { Authorization: `${scheme} ${secrets.adminKey}` } });

      // Assess
      expect(response.status).toBe(200);
    });

    const refused: readonly { kind: string; headers: () => Record<string, string> }[] = [
      { kind: 'no credential', headers: () => ({}) },
      { kind: 'an empty Authorization header', headers: () => ({ Authorization: '' }) },
      { kind: 'a wrong key', headers: () => ({ Authorization: `Bearer ${randomUUID()}${randomUUID()}` }) },
      { kind: 'the widget key as Bearer', headers: () => ({ Authorization: `Bearer ${secrets.widgetKey}` }) },
      { kind: 'the signing secret as Bearer', headers: () => ({ Authorization: `Bearer ${secrets.signingSecret}` }) },
      {
        kind: 'the admin key as Basic credentials',
        headers: () => ({ Authorization: `Basic ${Buffer.from(`admin:${secrets.adminKey}`).toString('base64')}` }),
      },
      { kind: 'the admin key after Basic', headers: () => ({ Authorization: `Basic ${secrets.adminKey}` }) },
      { kind: 'the admin key with no scheme', headers: () => ({ Authorization: secrets.adminKey }) },
      { kind: 'the admin key after another scheme', headers: () => ({ Authorization: `Token ${secrets.adminKey}` }) },
      { kind: 'the scheme glued to the key', headers: () => ({ Authorization: `Bearer${secrets.adminKey}` }) },
      { kind: 'the scheme alone', headers: () => ({ Authorization: 'Bearer' }) },
      {
        kind: 'two tokens',
        headers: () => ({ Authorization: `Bearer ${secrets.adminKey} ${secrets.adminKey}` }),
      },
      { kind: 'the key then another word', headers: () => ({ Authorization: `Bearer ${secrets.adminKey} extra` }) },
      { kind: 'the key then a comma', headers: () => ({ Authorization: `Bearer ${secrets.adminKey},` }) },
      { kind: 'a tab instead of a space', headers: () => ({ Authorization: `Bearer\t${secrets.adminKey}` }) },
      { kind: 'the key with a prefix', headers: () => ({ Authorization: `Bearer x${secrets.adminKey}` }) },
      { kind: 'the key with a suffix', headers: () => ({ Authorization: `Bearer ${secrets.adminKey}x` }) },
      {
        kind: 'the key minus its last character',
        headers: () => ({ Authorization: `Bearer ${secrets.adminKey.slice(0, -1)}` }),
      },
      {
        kind: 'the key with its case swapped',
        headers: () => ({ Authorization: `Bearer ${swapCase(secrets.adminKey)}` }),
      },
      { kind: 'an overlong token', headers: () => ({ Authorization: `Bearer ${secrets.adminKey.repeat(110)}` }) },
      { kind: 'the admin key in X-Widget-Api-Key', headers: () => ({ 'X-Widget-Api-Key': secrets.adminKey }) },
      { kind: 'the widget key in X-Widget-Api-Key', headers: () => ({ 'X-Widget-Api-Key': secrets.widgetKey }) },
    ];

    it.each(refused)(
      'It should refuse $kind on an admin route with 401 and a Bearer challenge',
      async ({ headers }) => {
        // Act
        const response = await http(adminUrl(), { headers: headers() });

        // Assess
        expect(response.status).toBe(401);
        expect(errorCode(response)).toBe('UNAUTHORIZED');
        expect(response.headers['www-authenticate']).toBe(BEARER_CHALLENGE);
      },
    );

    const adminRoutes = [
      { method: 'GET', path: '/v1/admin/conversations' },
      { method: 'GET', path: '/v1/admin/conversations/some-session' },
      { method: 'DELETE', path: '/v1/admin/conversations/some-session' },
      { method: 'GET', path: '/v1/admin/audit' },
    ];

    it.each(adminRoutes)(
      'It should not open $method $path with the admin key in X-Widget-Api-Key',
      async ({ method, path }) => {
        // Act
        const response = await http(`${server.url}${path}`, {
          method,
          headers: { 'X-Widget-Api-Key': secrets.adminKey },
        });

        // Assess
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toBe(BEARER_CHALLENGE);
      },
    );

    it.each(adminRoutes)(
      'It should answer 403 FORBIDDEN to the server key (role tokens:mint) on $method $path',
      async ({ method, path }) => {
        // Act
        const response = await http(`${server.url}${path}`, {
          method,
          headers: { Authorization: `Bearer ${secrets.serverKey}` },
        });

        // Assess
        expect(response.status).toBe(403);
        expect(errorCode(response)).toBe('FORBIDDEN');
      },
    );

    it('It should refuse a wrong admin key before looking at the path parameters', async () => {
      // Act: an invalid session id must not turn a 401 into a 400 that reveals the route's validation.
      const response = await http(`${server.url}/v1/admin/conversations/${encodeURIComponent('bad id!')}`, {
        headers: { Authorization: `Bearer ${secrets.widgetKey}` },
      });

      // Assess
      expect(response.status).toBe(401);
    });
  });
});
