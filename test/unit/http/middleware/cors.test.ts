import { build as buildAudit } from '../../../../lambdas/handlers/admin-list-audit.js';
import { build as buildHealth } from '../../../../lambdas/handlers/health.js';
import { build as buildChat } from '../../../../lambdas/handlers/post-chat.js';
import { build as buildFallback } from '../../../../lambdas/handlers/route-fallback.js';
import { EXPOSED_HEADERS } from '../../../../lambdas/http/middleware/cors.js';
import {
  T0,
  chatRequest,
  errorOf,
  fakeRuntime,
  invoke,
  type FakeRuntime,
  type TestResponse,
} from '../../../helpers/fake-runtime.js';

const LISTS = {
  CORS_ORIGIN: 'https://app.example.com,https://*.example.org',
  ADMIN_CORS_ORIGIN: 'https://admin.example.com',
};

function setup(env: Record<string, string> = LISTS) {
  const fake = fakeRuntime({ env });
  return {
    ...fake,
    chat: buildChat(fake.runtime),
    audit: buildAudit(fake.runtime),
    health: buildHealth(fake.runtime),
    fallback: buildFallback(fake.runtime),
  };
}

const adminRequest = (fake: FakeRuntime, origin?: string) => ({
  method: 'GET',
  path: '/v1/admin/audit',
  headers: { Authorization: `Bearer ${fake.keys.admin}`, ...(origin === undefined ? {} : { Origin: origin }) },
});

function expectNoCredentialsEver(response: TestResponse): void {
  const names = Object.keys(response.headers).map((n) => n.toLowerCase());
  expect(names).not.toContain('access-control-allow-credentials');
}

describe('cors middleware', () => {
  it.each(['https://app.example.com', 'https://a.example.org', 'https://deep.sub.example.org'])(
    'It should echo the allowed origin %s and expose the documented headers',
    async (origin) => {
      // Prepare
      const fake = setup();

      // Act
      const response = await invoke(fake.chat, chatRequest(fake.keys.widget, undefined, { Origin: origin }));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(response.headers['Access-Control-Allow-Origin']).toBe(origin);
      expect(response.headers['Access-Control-Expose-Headers']).toBe(EXPOSED_HEADERS);
      expect(response.headers.Vary).toBe('Origin');
      expectNoCredentialsEver(response);
    },
  );

  it('It should send Vary: Origin and no ACAO when there is no Origin header', async () => {
    // Prepare
    const fake = setup();

    // Act
    const response = await invoke(fake.chat, chatRequest(fake.keys.widget));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers.Vary).toBe('Origin');
    expect(response.headers['Access-Control-Allow-Origin']).toBeUndefined();
  });

  it.each([
    'https://evil.com',
    'https://example.org',
    'https://app.example.com.evil.com',
    'http://app.example.com',
    'https://app.example.com:8443',
    'null',
    '',
    'https://admin.example.com',
  ])('It should answer 403 ORIGIN_NOT_ALLOWED for Origin %j on a widget route', async (origin) => {
    // Prepare
    const fake = setup();

    // Act
    const response = await invoke(fake.chat, chatRequest(fake.keys.widget, undefined, { Origin: origin }));

    // Assess
    expect(response.statusCode).toBe(403);
    expect(errorOf(response)).toEqual({
      code: 'ORIGIN_NOT_ALLOWED',
      message: 'This origin is not allowed to call this API.',
    });
    expect(response.headers['Access-Control-Allow-Origin']).toBeUndefined();
    expect(response.headers['Access-Control-Expose-Headers']).toBeUndefined();
    expect(response.headers.Vary).toBe('Origin');
    expectNoCredentialsEver(response);
    expect(fake.conversations.sessions.size).toBe(0);
  });

  it('It should audit a rejected origin as origin.rejected, without the origin or any credential', async () => {
    // Prepare
    const fake = setup();

    // Act
    await invoke(fake.chat, {
      ...chatRequest(fake.keys.widget, undefined, { Origin: 'https://evil.com', 'X-Request-Id': 'req-9' }),
      sourceIp: '198.51.100.9',
    });

    // Assess
    expect(fake.auditStore.all()).toEqual([
      {
        type: 'origin.rejected',
        actor: 'anonymous',
        ip: '198.51.100.9',
        method: 'POST',
        route: '/v1/chat',
        requestId: 'req-9',
        at: T0,
      },
    ]);
  });

  it('It should refuse a disallowed origin before authentication', async () => {
    // Prepare
    const fake = setup();

    // Act
    const response = await invoke(fake.chat, chatRequest('wrong-key', undefined, { Origin: 'https://evil.com' }));

    // Assess
    expect(response.statusCode).toBe(403);
    expect(fake.auditStore.ofType('auth.failure')).toEqual([]);
    expect(fake.source.loads).toBe(0);
  });

  it('It should keep the ACAO of an allowed origin on an error response', async () => {
    // Prepare
    const fake = setup();

    // Act
    const response = await invoke(
      fake.chat,
      chatRequest('wrong-key', undefined, { Origin: 'https://app.example.com' }),
    );

    // Assess
    expect(response.statusCode).toBe(401);
    expect(response.headers['Access-Control-Allow-Origin']).toBe('https://app.example.com');
    expect(response.headers.Vary).toBe('Origin');
  });

  describe('admin routes', () => {
    it('It should allow an origin of ADMIN_CORS_ORIGIN', async () => {
      // Prepare
      const fake = setup();

      // Act
      const response = await invoke(fake.audit, adminRequest(fake, 'https://admin.example.com'));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(response.headers['Access-Control-Allow-Origin']).toBe('https://admin.example.com');
    });

    it.each(['https://app.example.com', 'https://a.example.org'])(
      'It should refuse the widget origin %s on an admin route',
      async (origin) => {
        // Prepare
        const fake = setup();

        // Act
        const response = await invoke(fake.audit, adminRequest(fake, origin));

        // Assess
        expect(response.statusCode).toBe(403);
        expect(errorOf(response).code).toBe('ORIGIN_NOT_ALLOWED');
        expect(response.headers['Access-Control-Allow-Origin']).toBeUndefined();
      },
    );

    it('It should refuse every origin on admin routes by default, in development too', async () => {
      // Prepare
      const fake = setup({});

      // Act
      const response = await invoke(fake.audit, adminRequest(fake, 'http://localhost:5173'));

      // Assess
      expect(response.statusCode).toBe(403);
    });

    it('It should still serve an admin call without an Origin (a server or curl)', async () => {
      // Prepare
      const fake = setup({});

      // Act
      const response = await invoke(fake.audit, adminRequest(fake));

      // Assess
      expect(response.statusCode).toBe(200);
    });
  });

  describe('an empty widget list', () => {
    it.each(['http://localhost:5173', 'https://anything.example'])(
      'It should allow the origin %s in development',
      async (origin) => {
        // Prepare
        const fake = setup({});

        // Act
        const response = await invoke(fake.chat, chatRequest(fake.keys.widget, undefined, { Origin: origin }));

        // Assess
        expect(response.statusCode).toBe(200);
        expect(response.headers['Access-Control-Allow-Origin']).toBe(origin);
      },
    );

    it('It should still refuse the null origin in development', async () => {
      // Prepare
      const fake = setup({});

      // Act
      const response = await invoke(fake.chat, chatRequest(fake.keys.widget, undefined, { Origin: 'null' }));

      // Assess
      expect(response.statusCode).toBe(403);
    });
  });

  describe('preflight', () => {
    it('It should answer an allowed preflight with 204 and the allowed methods and headers', async () => {
      // Prepare
      const fake = setup();

      // Act
      const response = await invoke(fake.fallback, {
        method: 'OPTIONS',
        path: '/v1/chat',
        headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST' },
      });

      // Assess
      expect(response.statusCode).toBe(204);
      expect(response.headers).toMatchObject({
        'Access-Control-Allow-Origin': 'https://app.example.com',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': expect.stringContaining('X-Widget-Api-Key') as unknown,
        Vary: 'Origin',
      });
      expectNoCredentialsEver(response);
    });

    it.each([
      ['a widget path from a foreign origin', '/v1/chat', 'https://evil.com'],
      ['an admin path from a widget origin', '/v1/admin/audit', 'https://app.example.com'],
      ['an admin path with a parameter from a widget origin', '/v1/admin/conversations/s-1', 'https://a.example.org'],
    ])('It should refuse the preflight of %s with 403 and no ACAO', async (_label, path, origin) => {
      // Prepare
      const fake = setup();

      // Act
      const response = await invoke(fake.fallback, { method: 'OPTIONS', path, headers: { Origin: origin } });

      // Assess
      expect(response.statusCode).toBe(403);
      expect(errorOf(response).code).toBe('ORIGIN_NOT_ALLOWED');
      expect(response.headers['Access-Control-Allow-Origin']).toBeUndefined();
      expect(response.headers['Access-Control-Allow-Methods']).toBeUndefined();
    });

    it.each(
      [
        '/V1/ADMIN/audit',
        '/v1/admin%2Faudit',
        '//v1/admin/audit',
        '/v1/chat/../admin/audit',
        '/v1/chat/',
        '/nope',
      ].flatMap((path) => ['GET', 'OPTIONS', 'POST'].map((method) => [method, path])),
    )('should grant no widget CORS to %s %s, which is no route, and show no data', async (method, path) => {
      // Prepare
      const fake = setup();

      // Act
      const response = await invoke(fake.fallback, {
        method,
        path,
        headers: { Origin: 'https://app.example.com', Authorization: `Bearer ${fake.keys.admin}` },
      });

      // Assess
      expect(response.statusCode).toBe(404);
      expect(errorOf(response).code).toBe('NOT_FOUND');
      expect(response.headers['Access-Control-Allow-Origin']).toBeUndefined();
      expect(response.headers['Access-Control-Allow-Methods']).toBeUndefined();
      expect(response.headers['Access-Control-Expose-Headers']).toBeUndefined();
      expect(response.headers.Vary).toBe('Origin');
    });

    it('It should use the admin list for the preflight of an admin path', async () => {
      // Prepare
      const fake = setup();

      // Act
      const response = await invoke(fake.fallback, {
        method: 'OPTIONS',
        path: '/v1/admin/conversations/s-1',
        headers: { Origin: 'https://admin.example.com' },
      });

      // Assess
      expect(response.statusCode).toBe(204);
      expect(response.headers['Access-Control-Allow-Origin']).toBe('https://admin.example.com');
      expect(response.headers['Access-Control-Allow-Methods']).toBe('GET, DELETE, OPTIONS');
    });
  });

  it('It should send Vary: Origin on a route that takes no credential', async () => {
    // Prepare
    const fake = setup();

    // Act
    const response = await invoke(fake.health, { method: 'GET', path: '/health' });

    // Assess
    expect(response.headers.Vary).toBe('Origin');
  });
});
