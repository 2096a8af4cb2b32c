/**
 * The local-only routes: `/widget.js`, `/demo` and `POST /demo/token`. They carry the security
 * headers, the demo page has a strict nonce CSP, the demo token is a genuine short-lived token
 * that only a same-origin page on a loopback host gets, and in production only `/widget.js` exists.
 * None of them is in the Lambda route table.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ROUTES } from '../../lambdas/http/routes.js';
import { verifyWidgetToken } from '../../lambdas/lib/tokens.js';
import { DEMO_TOKEN_SECONDS, DEMO_USER_ID } from '../../local/widget-routes.js';
import { errorOf, HSTS, http, SECURITY_HEADERS as API_SECURITY_HEADERS, type HttpResponse } from '../helpers/http.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

// Every API security header but the CSP, which these routes set per response (the demo's nonce),
// and the resource policy, which the bundle relaxes so any origin may load it (asserted below).
const PER_RESPONSE = ['content-security-policy', 'cross-origin-resource-policy'];
const SECURITY_HEADERS = Object.fromEntries(
  Object.entries(API_SECURITY_HEADERS).filter(([name]) => !PER_RESPONSE.includes(name)),
);

function expectSecurityHeaders(headers: IncomingHttpHeaders): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect({ name, value: headers[name] }).toEqual({ name, value });
  }
  expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(headers['x-powered-by']).toBeUndefined();
}

/** The nonce of `script-src` in a CSP, which must equal the one of `style-src`. */
function nonceOf(csp: string): string {
  const script = /script-src 'nonce-([A-Za-z0-9+/=]+)'(;|$)/.exec(csp)?.[1];
  const style = /style-src 'nonce-([A-Za-z0-9+/=]+)'(;|$)/.exec(csp)?.[1];
  expect(script).toBeDefined();
  expect(style).toBe(script);
  return script!;
}

describe('local widget routes', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('It should keep every local-only path out of the Lambda route table', () => {
    const paths = ROUTES.map((route) => route.path);
    for (const local of ['/widget.js', '/demo', '/demo/token']) expect(paths).not.toContain(local);
  });

  it('It should serve the widget bundle as JavaScript that any origin may load, with the security headers', async () => {
    const res = await http(`${server.url}/widget.js`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expectSecurityHeaders(res.headers);
    expect(res.text).toContain('ChatWidget');
  });

  it.each([
    ['/demo', 'data-api-url'],
    ['/demo?mode=token', 'ChatWidget.init'],
  ])('It should serve %s with a strict nonce CSP that covers each of its scripts and styles', async (path, marker) => {
    const res = await http(`${server.url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expectSecurityHeaders(res.headers);
    const csp = res.headers['content-security-policy'] as string;
    const nonce = nonceOf(csp);
    for (const directive of [
      "default-src 'none'",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
      "require-trusted-types-for 'script'",
    ]) {
      expect(csp.split('; ')).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe-|\*|data:/);
    expect(res.text).toContain(marker);
    const tags = res.text.match(/<(script|style)\b[^>]*>/g) ?? [];
    expect(tags.length).toBeGreaterThanOrEqual(2);
    for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
    expect(res.text).not.toMatch(/\son[a-z]+=/i);
  });

  it('It should use a fresh nonce for every page and show only the publishable key', async () => {
    const [a, b] = await Promise.all([http(`${server.url}/demo`), http(`${server.url}/demo`)]);
    expect(nonceOf(a.headers['content-security-policy'] as string)).not.toBe(
      nonceOf(b.headers['content-security-policy'] as string),
    );
    expect(a.text).toContain(server.secrets.widgetKey);
    for (const secret of [server.secrets.signingSecret, server.secrets.serverKey, server.secrets.adminKey]) {
      expect(a.text).not.toContain(secret);
    }
  });

  it(`It should mint a genuine ${DEMO_TOKEN_SECONDS}-second token for ${DEMO_USER_ID} for a same-origin page`, async () => {
    const host = new URL(server.url).host;
    const res = await http(`${server.url}/demo/token`, { method: 'POST', headers: { Origin: `http://${host}` } });
    expect(res.status).toBe(201);
    expectSecurityHeaders(res.headers);
    const { token } = res.json as { token: string };
    const verified = await verifyWidgetToken(
      token,
      [server.secrets.signingSecret],
      { maxTtlSeconds: 86400 },
      Date.now(),
    );
    expect(verified.userId).toBe(DEMO_USER_ID);
    expect(verified.exp - verified.iat!).toBe(DEMO_TOKEN_SECONDS);
  });

  it.each<{ kind: string; headers: (host: string) => Record<string, string> }>([
    { kind: 'another origin', headers: () => ({ Origin: 'https://evil.example' }) },
    { kind: 'the same host over another scheme', headers: (host) => ({ Origin: `https://${host}` }) },
    { kind: 'a rebound DNS name', headers: (host) => ({ Host: `evil.example:${host.split(':')[1]}` }) },
    {
      kind: 'a rebound DNS name with a matching Origin',
      headers: (host) => ({
        Host: `evil.example:${host.split(':')[1]}`,
        Origin: `http://evil.example:${host.split(':')[1]}`,
      }),
    },
  ])('It should refuse a demo token to $kind', async ({ headers }) => {
    const host = new URL(server.url).host;
    const res = await http(`${server.url}/demo/token`, { method: 'POST', headers: headers(host) });
    expect(res.status).toBe(403);
    expect(errorOf(res).code).toBe('ORIGIN_NOT_ALLOWED');
    expect(res.text).not.toContain('token":');
    expectSecurityHeaders(res.headers);
  });

  it.each([
    ['POST', '/widget.js', 'GET'],
    ['POST', '/demo', 'GET'],
    ['GET', '/demo/token', 'POST'],
    ['DELETE', '/demo/token', 'POST'],
  ])('It should answer %s %s with 405 and Allow: %s', async (method, path, allow) => {
    const res = await http(`${server.url}${path}`, { method });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(errorOf(res).code).toBe('METHOD_NOT_ALLOWED');
    expectSecurityHeaders(res.headers);
  });
});

describe('local widget routes in production', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ APP_ENV: 'production', CORS_ORIGIN: 'https://app.example.com' });
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  it.each([
    ['GET', '/demo'],
    ['GET', '/demo?mode=token'],
    ['POST', '/demo/token'],
  ])('It should not have %s %s (404 from the route table)', async (method, path) => {
    const res: HttpResponse = await http(`${server.url}${path}`, { method });
    expect(res.status).toBe(404);
    expect(errorOf(res).code).toBe('NOT_FOUND');
    expect(res.text).not.toContain('token":');
  });

  it('It should still serve the widget bundle, with HSTS', async () => {
    const res = await http(`${server.url}/widget.js`);
    expect(res.status).toBe(200);
    expect(res.headers['strict-transport-security']).toBe(HSTS);
  });
});
