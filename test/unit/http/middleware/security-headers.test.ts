import { build as buildHealth } from '../../../../lambdas/handlers/health.js';
import { build as buildChat } from '../../../../lambdas/handlers/post-chat.js';
import { build as buildFallback } from '../../../../lambdas/handlers/route-fallback.js';
import { defineHandler, type LambdaHandler } from '../../../../lambdas/http/handler.js';
import { json } from '../../../../lambdas/http/responses.js';
import { chatRequest, fakeRuntime, invoke, type EventInput, type FakeRuntime } from '../../../helpers/fake-runtime.js';

// Written out, not read from `contract.ts`: the one test that pins the values the others derive from the table.
const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cache-Control': 'no-store',
};
const HSTS = 'max-age=31536000; includeSubDomains';
const DEVELOPMENT = { CORS_ORIGIN: 'https://app.example.com' };
const PRODUCTION = { ...DEVELOPMENT, APP_ENV: 'production', REQUIRE_WIDGET_TOKEN: 'false' };

const crash = defineHandler({ auth: 'none' }, async () => {
  throw new Error('database exploded');
});
const leaky = defineHandler({ auth: 'none' }, async () =>
  json(200, { ok: true }, { 'X-Powered-By': 'Express', Server: 'nginx/1.25.3', 'Cache-Control': 'public' }),
);

/** Every kind of response the chain produces: success, each error family, preflight. */
const RESPONSES: [string, (f: FakeRuntime) => [LambdaHandler, EventInput]][] = [
  ['a 200', (f) => [buildHealth(f.runtime), { method: 'GET', path: '/health' }]],
  ['a chat 200', (f) => [buildChat(f.runtime), chatRequest(f.keys.widget)]],
  ['a 204 preflight', (f) => [buildFallback(f.runtime), { method: 'OPTIONS', path: '/v1/chat' }]],
  ['a 400', (f) => [buildChat(f.runtime), chatRequest(f.keys.widget, '{')]],
  ['a 401', (f) => [buildChat(f.runtime), chatRequest('wrong')]],
  ['a 403', (f) => [buildChat(f.runtime), chatRequest(f.keys.widget, undefined, { Origin: 'https://evil.com' })]],
  ['a 404', (f) => [buildFallback(f.runtime), { method: 'GET', path: '/nope' }]],
  ['a 405', (f) => [buildFallback(f.runtime), { method: 'GET', path: '/v1/chat' }]],
  ['a 413', (f) => [buildChat(f.runtime), chatRequest(f.keys.widget, 'x'.repeat(70000))]],
  ['a 415', (f) => [buildChat(f.runtime), chatRequest(f.keys.widget, undefined, { 'Content-Type': 'text/plain' })]],
  ['a 500', (f) => [crash.build(f.runtime), { method: 'GET', path: '/crash' }]],
];

describe('security-headers middleware', () => {
  it.each(RESPONSES)(
    'It should put the exact security headers on %s in development, without HSTS',
    async (_l, make) => {
      // Prepare
      const fake = fakeRuntime({ env: DEVELOPMENT });
      const [handler, request] = make(fake);

      // Act
      const response = await invoke(handler, request);

      // Assess
      expect(response.headers).toMatchObject(SECURITY_HEADERS);
      expect(response.headers['Strict-Transport-Security']).toBeUndefined();
    },
  );

  it.each(RESPONSES)('It should add HSTS to %s in production', async (_l, make) => {
    // Prepare
    const fake = fakeRuntime({ env: PRODUCTION });
    const [handler, request] = make(fake);

    // Act
    const response = await invoke(handler, request);

    // Assess
    expect(response.headers).toMatchObject({ ...SECURITY_HEADERS, 'Strict-Transport-Security': HSTS });
  });

  it.each([
    ['development', DEVELOPMENT],
    ['production', PRODUCTION],
  ])('It should produce the intended status for each case of the table in %s', async (_env, env) => {
    // Prepare
    const fake = fakeRuntime({ env });

    // Act
    const statuses = await Promise.all(RESPONSES.map(async ([, make]) => (await invoke(...make(fake))).statusCode));

    // Assess
    expect(statuses).toEqual([200, 200, 204, 400, 401, 403, 404, 405, 413, 415, 500]);
  });

  it('It should strip X-Powered-By and Server and enforce no-store even when a handler sets them', async () => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(leaky.build(fake.runtime), { method: 'GET', path: '/leaky' });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers['X-Powered-By']).toBeUndefined();
    expect(response.headers.Server).toBeUndefined();
    expect(response.headers['Cache-Control']).toBe('no-store');
  });

  it('It should answer errors as JSON', async () => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(buildFallback(fake.runtime), { method: 'GET', path: '/nope' });

    // Assess
    expect(response.headers['Content-Type']).toBe('application/json; charset=utf-8');
  });
});
