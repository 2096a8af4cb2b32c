import { jest } from '@jest/globals';
import { build as buildGetConversation } from '../../../../lambdas/handlers/admin-get-conversation.js';
import { build as buildHealth } from '../../../../lambdas/handlers/health.js';
import { build as buildChat } from '../../../../lambdas/handlers/post-chat.js';
import { build as buildFallback } from '../../../../lambdas/handlers/route-fallback.js';
import { defineHandler } from '../../../../lambdas/http/handler.js';
import { json } from '../../../../lambdas/http/responses.js';
import { apiEvent, chatRequest, fakeRuntime, invoke } from '../../../helpers/fake-runtime.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Answers with what the chain learned about the request. */
const echoState = defineHandler({ auth: 'none' }, async ({ state }) =>
  json(200, { ip: state.ip, requestId: state.requestId, route: state.route }),
);

describe('request-context middleware', () => {
  it.each(['abc-123', 'A.b_c:d-e', '1', 'x'.repeat(128), '4f3c2a1e-0000-4000-8000-000000000000'])(
    'It should echo the well-formed X-Request-Id %j',
    async (requestId) => {
      // Prepare
      const fake = fakeRuntime();

      // Act
      const response = await invoke(buildHealth(fake.runtime), {
        method: 'GET',
        path: '/health',
        headers: { 'X-Request-Id': requestId },
      });

      // Assess
      expect(response.headers['X-Request-Id']).toBe(requestId);
    },
  );

  it.each([
    ['too long', 'x'.repeat(129)],
    ['empty', ''],
    ['with a space', 'a b'],
    ['with a newline (log injection)', 'abc\n{"level":"ERROR"}'],
    ['with a CRLF (header injection)', 'abc\r\nSet-Cookie: a=b'],
    ['with markup', '<script>'],
    ['with a slash', 'a/b'],
    ['with non-ASCII', 'r\u00e9q'],
  ])('It should replace an X-Request-Id that is %s with a fresh UUID', async (_label, requestId) => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(buildHealth(fake.runtime), {
      method: 'GET',
      path: '/health',
      headers: { 'X-Request-Id': requestId },
    });

    // Assess
    expect(response.headers['X-Request-Id']).toMatch(UUID);
  });

  it('It should generate a different id for each request without one', async () => {
    // Prepare
    const fake = fakeRuntime();
    const health = buildHealth(fake.runtime);

    // Act
    const ids = await Promise.all(
      [1, 2, 3].map(async () => (await invoke(health, { method: 'GET', path: '/health' })).headers['X-Request-Id']),
    );

    // Assess
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(3);
  });

  it.each([
    ['a 401', (widget: string) => chatRequest(`${widget}x`, undefined, { 'X-Request-Id': 'req-401' }), 'req-401', 401],
    ['a 400', (widget: string) => chatRequest(widget, '{', { 'X-Request-Id': 'req-400' }), 'req-400', 400],
  ])('It should echo the request id on %s', async (_label, make, requestId, status) => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(buildChat(fake.runtime), make(fake.keys.widget));

    // Assess
    expect(response.statusCode).toBe(status);
    expect(response.headers['X-Request-Id']).toBe(requestId);
  });

  it('It should echo the request id on a 404 from the fallback', async () => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(buildFallback(fake.runtime), {
      method: 'GET',
      path: '/nope',
      headers: { 'x-request-id': 'req-404' },
    });

    // Assess
    expect(response.statusCode).toBe(404);
    expect(response.headers['X-Request-Id']).toBe('req-404');
  });

  it.each([
    ['X-Forwarded-For', { 'X-Forwarded-For': '1.2.3.4' }],
    ['X-Forwarded-For with several hops', { 'X-Forwarded-For': '1.2.3.4, 5.6.7.8' }],
    ['X-Real-IP', { 'X-Real-IP': '1.2.3.4' }],
    ['Forwarded', { Forwarded: 'for=1.2.3.4' }],
    ['True-Client-IP', { 'True-Client-IP': '1.2.3.4' }],
    ['CF-Connecting-IP', { 'CF-Connecting-IP': '1.2.3.4' }],
  ])('It should take the client IP from the source IP only, ignoring %s', async (_label, headers) => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(echoState.build(fake.runtime), {
      method: 'GET',
      path: '/probe',
      headers,
      sourceIp: '198.51.100.77',
    });

    // Assess
    expect(response.json).toMatchObject({ ip: '198.51.100.77' });
  });

  it('It should audit the source IP, not a forwarded one', async () => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    await invoke(buildChat(fake.runtime), {
      ...chatRequest('wrong', undefined, { 'X-Forwarded-For': '1.2.3.4' }),
      sourceIp: '2001:db8::1',
    });

    // Assess
    expect(fake.auditStore.ofType('auth.failure')).toEqual([expect.objectContaining({ ip: '2001:db8::1' })]);
  });

  it('It should use "unknown" when the event has no source IP', async () => {
    // Prepare
    const fake = fakeRuntime();
    const event = apiEvent({ method: 'GET', path: '/probe', headers: { 'X-Forwarded-For': '1.2.3.4' } });
    const withoutIdentity = { ...event, requestContext: { ...event.requestContext, identity: undefined } };

    // Act
    const response = await invoke(echoState.build(fake.runtime), withoutIdentity as unknown as typeof event);

    // Assess
    expect(response.json).toMatchObject({ ip: 'unknown' });
  });

  it('It should record the route template, not the raw path', async () => {
    // Prepare
    const fake = fakeRuntime();
    const info = jest.spyOn(fake.logger, 'info');

    // Act
    await invoke(buildGetConversation(fake.runtime), {
      method: 'GET',
      path: '/v1/admin/conversations/secret-session-id',
      headers: { Authorization: `Bearer ${fake.keys.admin}` },
    });

    // Assess
    expect(info).toHaveBeenCalledWith(
      'request',
      expect.objectContaining({ route: '/v1/admin/conversations/{sessionId}', status: 404, actor: 'admin' }),
    );
    expect(JSON.stringify(info.mock.calls)).not.toContain('secret-session-id');
  });

  it('It should write one access log line with status and duration, and no headers or body', async () => {
    // Prepare
    const fake = fakeRuntime();
    const info = jest.spyOn(fake.logger, 'info');
    const slow = defineHandler({ auth: 'widget' }, async () => {
      fake.clock.advance(42);
      return json(200, { ok: true });
    });

    // Act
    await invoke(slow.build(fake.runtime), {
      method: 'POST',
      path: '/v1/chat',
      headers: { 'X-Widget-Api-Key': fake.keys.widget, 'X-Request-Id': 'req-log', Cookie: 'session=abc' },
      body: 'private words',
      sourceIp: '198.51.100.5',
    });

    // Assess
    expect(info).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenCalledWith('request', {
      requestId: 'req-log',
      method: 'POST',
      route: '/v1/chat',
      status: 200,
      durationMs: 42,
      ip: '198.51.100.5',
      actor: 'anonymous',
    });
    const logged = JSON.stringify(info.mock.calls);
    expect(logged).not.toContain(fake.keys.widget);
    expect(logged).not.toContain('private words');
    expect(logged).not.toContain('session=abc');
  });

  it('It should log the error code of an error response', async () => {
    // Prepare
    const fake = fakeRuntime();
    const info = jest.spyOn(fake.logger, 'info');

    // Act
    await invoke(buildChat(fake.runtime), chatRequest('wrong'));

    // Assess
    expect(info).toHaveBeenCalledWith('request', expect.objectContaining({ status: 401, errorCode: 'UNAUTHORIZED' }));
  });
});
