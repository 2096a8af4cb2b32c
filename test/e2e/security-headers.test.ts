/**
 * Every kind of response the local server gives (success, preflight, each error status) carries
 * the security headers of design §6 with their exact values, an `X-Request-Id`, and (for errors)
 * exactly the error body of design §3.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HSTS as PRODUCTION_HSTS, http, postJson, SECURITY_HEADERS, type HttpResponse } from '../helpers/http.js';
import { startTarget, TARGET, type RunningServer } from '../helpers/local-server.js';

const ALLOWED_ORIGIN = 'https://app.example.com';
const MAX_BODY_BYTES = 65536;
const API_GATEWAY_MAX_BYTES = 10 * 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** HSTS is sent in production only: `npm start` runs as development, the synthesized template as production. */
const HSTS = TARGET === 'synth' ? PRODUCTION_HSTS : undefined;

/** Asserts the security headers of design §6 on one response (HSTS as the target's mode wants). */
function expectSecurityHeaders(headers: IncomingHttpHeaders): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect({ name, value: headers[name] }).toEqual({ name, value });
  }
  expect(headers['x-powered-by']).toBeUndefined();
  expect(headers['strict-transport-security']).toBe(HSTS);
  // A Server header, if any, must not carry a version.
  expect(String(headers.server ?? '')).not.toMatch(/\d/);
}

/** Asserts the error body of design §3: exactly `{"error":{"code","message"}}` (+ `details` for validation). */
function expectErrorBody(response: HttpResponse, code: string): void {
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const body = response.json as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  const expectedKeys = code === 'VALIDATION_FAILED' ? ['code', 'details', 'message'] : ['code', 'message'];
  expect(Object.keys(body.error).sort()).toEqual(expectedKeys);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect((body.error.message as string).length).toBeGreaterThan(0);
  if (code === 'VALIDATION_FAILED') {
    const details = body.error.details as Record<string, unknown>[];
    expect(details.length).toBeGreaterThan(0);
    for (const detail of details) {
      expect(Object.keys(detail).sort()).toEqual(['message', 'path']);
      expect(typeof detail.path).toBe('string');
      expect(typeof detail.message).toBe('string');
    }
  }
}

describe('security headers on every response', () => {
  let server: RunningServer;
  const chatUrl = () => `${server.url}/v1/chat`;
  const widgetKey = () => ({ 'X-Widget-Api-Key': server.secrets.widgetKey });

  beforeAll(async () => {
    server = await startTarget({ CORS_ORIGIN: ALLOWED_ORIGIN });
  });
  afterAll(async () => {
    await server.stop();
  });

  /** One request per kind of response; `code` is the error code, undefined for successes. */
  const cases: readonly {
    readonly kind: string;
    readonly status: number;
    readonly code?: string;
    readonly send: () => Promise<HttpResponse>;
  }[] = [
    { kind: '200 GET /health', status: 200, send: () => http(`${server.url}/health`) },
    {
      kind: '200 POST /v1/chat',
      status: 200,
      send: () => postJson(chatUrl(), { sessionId: 'headers-ok', message: 'hello' }, widgetKey()),
    },
    {
      kind: '204 preflight OPTIONS /v1/chat',
      status: 204,
      send: () =>
        http(chatUrl(), {
          method: 'OPTIONS',
          headers: {
            Origin: ALLOWED_ORIGIN,
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type, x-widget-api-key',
          },
        }),
    },
    {
      kind: '400 invalid JSON',
      status: 400,
      code: 'INVALID_JSON',
      send: () => postJson(chatUrl(), '{"sessionId":', widgetKey()),
    },
    {
      kind: '400 validation',
      status: 400,
      code: 'VALIDATION_FAILED',
      send: () => postJson(chatUrl(), { sessionId: 'bad id!', message: '' }, widgetKey()),
    },
    {
      kind: '401 missing widget key',
      status: 401,
      code: 'UNAUTHORIZED',
      send: () => postJson(chatUrl(), { sessionId: 's', message: 'hi' }),
    },
    {
      kind: '401 missing admin key',
      status: 401,
      code: 'UNAUTHORIZED',
      send: () => http(`${server.url}/v1/admin/conversations`),
    },
    {
      kind: '403 disallowed origin',
      status: 403,
      code: 'ORIGIN_NOT_ALLOWED',
      send: () =>
        postJson(chatUrl(), { sessionId: 's', message: 'hi' }, { ...widgetKey(), Origin: 'https://evil.example.net' }),
    },
    {
      kind: '403 disallowed origin on preflight',
      status: 403,
      code: 'ORIGIN_NOT_ALLOWED',
      send: () =>
        http(chatUrl(), {
          method: 'OPTIONS',
          headers: { Origin: 'https://evil.example.net', 'Access-Control-Request-Method': 'POST' },
        }),
    },
    { kind: '404 unknown path', status: 404, code: 'NOT_FOUND', send: () => http(`${server.url}/no/such/route`) },
    { kind: '405 GET /v1/chat', status: 405, code: 'METHOD_NOT_ALLOWED', send: () => http(chatUrl()) },
    {
      kind: '413 body one byte over MAX_BODY_BYTES',
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      send: () => postJson(chatUrl(), 'x'.repeat(MAX_BODY_BYTES + 1), widgetKey()),
    },
    {
      kind: '415 text/plain',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      send: () =>
        http(chatUrl(), {
          method: 'POST',
          headers: { ...widgetKey(), 'Content-Type': 'text/plain' },
          body: JSON.stringify({ sessionId: 's', message: 'hi' }),
        }),
    },
  ];

  it.each(cases)('It should send the security headers on $kind', async ({ status, send }) => {
    // Act
    const response = await send();

    // Assess
    expect(response.status).toBe(status);
    expectSecurityHeaders(response.headers);
    expect(response.headers['x-request-id']).toMatch(UUID);
  });

  it.each(cases.filter((c) => c.code !== undefined))(
    'It should answer $kind with exactly the contract error body',
    async ({ code, send }) => {
      // Act
      const response = await send();

      // Assess
      expectErrorBody(response, code!);
    },
  );

  it('It should list the allowed methods in Allow on 405', async () => {
    // Act
    const response = await http(chatUrl(), { method: 'GET' });

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST, OPTIONS');
  });

  it('It should answer a body over the 10 MiB API Gateway limit with 413, not a reset or a 500', async () => {
    // Prepare
    const body = Buffer.alloc(API_GATEWAY_MAX_BYTES + 1024, 'a');

    // Act
    const response = await http(chatUrl(), {
      method: 'POST',
      headers: { ...widgetKey(), 'Content-Type': 'application/json' },
      body,
    });

    // Assess
    expect(response.status).toBe(413);
    expectErrorBody(response, 'PAYLOAD_TOO_LARGE');
    expectSecurityHeaders(response.headers);
    // Deployed, API Gateway refuses this body itself (gateway response REQUEST_TOO_LARGE), so the
    // request id is API Gateway's own header, not the chain's.
    expect(response.headers[TARGET === 'synth' ? 'x-amzn-requestid' : 'x-request-id']).toMatch(UUID);
  });

  it('It should send the security headers even when the local adapter cannot parse the request target', async () => {
    // Act: an absolute-form target that Node's HTTP parser accepts but the URL parser does not.
    const response = await http(server.url, { target: 'http://[' });

    // Assess
    expect(response.status).toBeGreaterThanOrEqual(400);
    expectSecurityHeaders(response.headers);
    expect(response.headers['x-request-id']).toMatch(UUID);
  });

  it.each([
    { kind: '200', send: (id: string) => http(`${server.url}/health`, { headers: { 'X-Request-Id': id } }) },
    {
      kind: '401',
      send: (id: string) => postJson(chatUrl(), { sessionId: 's', message: 'hi' }, { 'X-Request-Id': id }),
    },
    { kind: '404', send: (id: string) => http(`${server.url}/nope`, { headers: { 'X-Request-Id': id } }) },
    {
      kind: '204 preflight',
      send: (id: string) =>
        http(chatUrl(), {
          method: 'OPTIONS',
          headers: { Origin: ALLOWED_ORIGIN, 'Access-Control-Request-Method': 'POST', 'X-Request-Id': id },
        }),
    },
  ])('It should echo a well-formed X-Request-Id on a $kind response', async ({ send }) => {
    // Prepare
    const id = `trace-${Date.now()}.abc:DEF_1`;

    // Act
    const response = await send(id);

    // Assess
    expect(response.headers['x-request-id']).toBe(id);
  });

  it.each([
    { kind: 'a space', id: 'has space' },
    { kind: 'markup', id: '<script>alert(1)</script>' },
    { kind: '129 characters', id: 'a'.repeat(129) },
    { kind: 'a slash', id: '../../etc/passwd' },
    { kind: 'a quote', id: 'id"injected' },
  ])('It should replace an X-Request-Id containing $kind with a generated one', async ({ id }) => {
    // Act
    const response = await http(`${server.url}/health`, { headers: { 'X-Request-Id': id } });

    // Assess
    expect(response.headers['x-request-id']).toMatch(UUID);
  });
});
