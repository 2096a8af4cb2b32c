/**
 * CORS by allow-list (design §6 step 3), attacked over HTTP: exact origins and subdomain
 * wildcards are honoured, every look-alike is refused with 403 and no ACAO, preflight follows the
 * same rules, and admin routes take no browser origin at all while `ADMIN_CORS_ORIGIN` is empty.
 */
import { http, postJson, type HttpResponse } from '../helpers/http.js';
import { startTarget, type RunningServer } from '../helpers/local-server.js';

const CORS_ORIGIN = 'https://app.example.com,https://*.example.org';

/** The `Vary` header as a list of lower-cased field names. */
const varyOf = (response: HttpResponse): string[] =>
  String(response.headers.vary ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase());

describe('CORS allow-list', () => {
  let server: RunningServer;
  let sequence = 0;

  /** A valid chat turn from `origin` (no Origin header when undefined). */
  const chatFrom = (origin: string | undefined): Promise<HttpResponse> => {
    sequence += 1;
    return postJson(
      `${server.url}/v1/chat`,
      { sessionId: `cors-${sequence}`, message: 'hello' },
      { 'X-Widget-Api-Key': server.secrets.widgetKey, ...(origin === undefined ? {} : { Origin: origin }) },
    );
  };

  const preflightFrom = (path: string, origin: string, method = 'POST'): Promise<HttpResponse> =>
    http(`${server.url}${path}`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': method,
        'Access-Control-Request-Headers': 'content-type, x-widget-api-key',
      },
    });

  beforeAll(async () => {
    server = await startTarget({ CORS_ORIGIN });
  });
  afterAll(async () => {
    await server.stop();
  });

  describe('allowed origins', () => {
    it.each([
      { kind: 'the exact origin', origin: 'https://app.example.com' },
      { kind: 'a subdomain of the wildcard', origin: 'https://chat.example.org' },
      { kind: 'a nested subdomain of the wildcard', origin: 'https://a.b.example.org' },
      { kind: 'the exact origin with its default port spelled out', origin: 'https://app.example.com:443' },
    ])('It should allow $kind and echo it in Access-Control-Allow-Origin', async ({ origin }) => {
      // Act
      const response = await chatFrom(origin);

      // Assess
      expect(response.status).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBe(origin);
      expect(varyOf(response)).toContain('origin');
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    });

    // Decision: scheme and host are case-insensitive (RFC 6454 lower-cases both), so an upper-case
    // spelling of an allowed origin is allowed. Browsers always send the lower-case serialization;
    // the header is echoed verbatim, which is what a CORS check compares against.
    it.each([
      { kind: 'an upper-case host', origin: 'https://APP.EXAMPLE.COM' },
      { kind: 'an upper-case scheme', origin: 'HTTPS://app.example.com' },
      { kind: 'a mixed-case wildcard subdomain', origin: 'https://Chat.Example.Org' },
    ])('It should treat $kind as the same origin and echo it verbatim', async ({ origin }) => {
      // Act
      const response = await chatFrom(origin);

      // Assess
      expect(response.status).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBe(origin);
    });

    it('It should treat surrounding whitespace as HTTP optional whitespace, not as part of the origin', async () => {
      // Act: leading and trailing OWS is not part of a field value (RFC 9110 §5.5).
      const response = await chatFrom('  https://app.example.com\t');

      // Assess
      expect(response.status).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBe('https://app.example.com');
    });

    it('It should let widget requests without an Origin header through, with Vary: Origin and no ACAO', async () => {
      // Act
      const response = await chatFrom(undefined);

      // Assess
      expect(response.status).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(varyOf(response)).toContain('origin');
    });
  });

  describe('bypass attempts', () => {
    const bypasses = [
      { kind: 'the bare domain of the wildcard', origin: 'https://example.org' },
      { kind: 'the allowed domain as a prefix of another', origin: 'https://example.org.evil.com' },
      { kind: 'a suffix without the dot', origin: 'https://evilexample.org' },
      { kind: 'a one-letter suffix without the dot', origin: 'https://xexample.org' },
      { kind: 'another scheme', origin: 'http://app.example.com' },
      { kind: 'another scheme on the wildcard', origin: 'http://chat.example.org' },
      { kind: 'another port', origin: 'https://app.example.com:8443' },
      { kind: 'another port on the wildcard', origin: 'https://chat.example.org:8443' },
      { kind: 'the null origin', origin: 'null' },
      { kind: 'userinfo before another host', origin: 'https://app.example.com@evil.com' },
      { kind: 'a fragment hiding the allowed host', origin: 'https://evil.com#@app.example.com' },
      { kind: 'the allowed host as a subdomain of another', origin: 'https://app.example.com.evil.com' },
      { kind: 'a trailing slash', origin: 'https://app.example.com/' },
      { kind: 'a path', origin: 'https://app.example.com/evil' },
      { kind: 'a trailing dot on the host', origin: 'https://app.example.com.' },
      { kind: 'a query', origin: 'https://app.example.com?x=1' },
      { kind: 'a space inside', origin: 'https://app.example.com evil' },
      { kind: 'a space after the scheme', origin: 'https:// app.example.com' },
      { kind: 'two origins in one header', origin: 'https://app.example.com, https://evil.com' },
      { kind: 'a wildcard origin', origin: '*' },
      { kind: 'a literal wildcard host', origin: 'https://*.example.org' },
      { kind: 'no scheme', origin: 'app.example.com' },
      { kind: 'a backslash', origin: 'https://evil.com\\.example.org' },
      { kind: 'an empty value', origin: '' },
      { kind: 'a percent-encoded dot', origin: 'https://evil%2eexample.org' },
      { kind: 'a port zero', origin: 'https://app.example.com:0' },
    ];

    it.each(bypasses)('It should refuse $kind ($origin) with 403 and no ACAO', async ({ origin }) => {
      // Act
      const response = await chatFrom(origin);

      // Assess
      expect(response.status).toBe(403);
      expect((response.json as { error: { code: string } }).error.code).toBe('ORIGIN_NOT_ALLOWED');
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
      expect(varyOf(response)).toContain('origin');
    });

    it('It should refuse a disallowed origin before checking credentials', async () => {
      // Act: no widget key at all; the origin check comes first (403, not 401).
      const response = await postJson(
        `${server.url}/v1/chat`,
        { sessionId: 's', message: 'hi' },
        { Origin: 'https://evil.com' },
      );

      // Assess
      expect(response.status).toBe(403);
      expect((response.json as { error: { code: string } }).error.code).toBe('ORIGIN_NOT_ALLOWED');
    });
  });

  describe('preflight', () => {
    it.each([
      { path: '/v1/chat', origin: 'https://app.example.com', allow: 'POST, OPTIONS' },
      { path: '/chat', origin: 'https://chat.example.org', allow: 'POST, OPTIONS' },
      { path: '/health', origin: 'https://app.example.com', allow: 'GET, OPTIONS' },
    ])('It should answer a preflight on $path from $origin with 204 and the CORS headers', async (c) => {
      // Act
      const response = await preflightFrom(c.path, c.origin);

      // Assess
      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      expect(response.headers['access-control-allow-origin']).toBe(c.origin);
      expect(response.headers['access-control-allow-methods']).toBe(c.allow);
      const allowedHeaders = String(response.headers['access-control-allow-headers'])
        .split(',')
        .map((h) => h.trim().toLowerCase());
      expect(allowedHeaders).toEqual(expect.arrayContaining(['content-type', 'x-widget-api-key']));
      expect(Number(response.headers['access-control-max-age'])).toBeGreaterThan(0);
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
      expect(varyOf(response)).toContain('origin');
    });

    it.each([
      'https://evil.com',
      'https://example.org',
      'http://app.example.com',
      'https://app.example.com.evil.com',
      'null',
    ])('It should refuse a preflight from %s with 403 and no CORS headers', async (origin) => {
      // Act
      const response = await preflightFrom('/v1/chat', origin);

      // Assess
      expect(response.status).toBe(403);
      expect((response.json as { error: { code: string } }).error.code).toBe('ORIGIN_NOT_ALLOWED');
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(response.headers['access-control-allow-methods']).toBeUndefined();
      expect(response.headers['access-control-allow-headers']).toBeUndefined();
    });
  });

  describe('admin routes (ADMIN_CORS_ORIGIN unset)', () => {
    const adminAuth = () => ({ Authorization: `Bearer ${server.secrets.adminKey}` });

    it.each([
      { kind: 'a widget-allowed exact origin', origin: 'https://app.example.com' },
      { kind: 'a widget-allowed wildcard subdomain', origin: 'https://admin.example.org' },
      { kind: 'any other origin', origin: 'https://evil.com' },
    ])('It should refuse an admin request from $kind even with the admin key', async ({ origin }) => {
      // Act
      const response = await http(`${server.url}/v1/admin/conversations`, {
        headers: { ...adminAuth(), Origin: origin },
      });

      // Assess
      expect(response.status).toBe(403);
      expect((response.json as { error: { code: string } }).error.code).toBe('ORIGIN_NOT_ALLOWED');
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    });

    it.each(['/v1/admin/conversations', '/v1/admin/audit', '/v1/admin/conversations/some-session'])(
      'It should refuse a preflight on %s from a widget-allowed origin',
      async (path) => {
        // Act
        const response = await preflightFrom(path, 'https://app.example.com', 'GET');

        // Assess
        expect(response.status).toBe(403);
        expect(response.headers['access-control-allow-origin']).toBeUndefined();
        expect(response.headers['access-control-allow-methods']).toBeUndefined();
      },
    );

    it('It should serve the admin key without an Origin header', async () => {
      // Act
      const response = await http(`${server.url}/v1/admin/conversations`, { headers: adminAuth() });

      // Assess
      expect(response.status).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(response.json).toEqual(expect.objectContaining({ items: expect.any(Array) as unknown }));
    });
  });
});
