/**
 * `POST /v1/chat/stream` over HTTP against the local server with the echo model: the security
 * chain answers before the first byte, events arrive in order and add up, and a refused request
 * is a JSON error, never a stream.
 */
import { http, openEventStream, postJson, type ErrorBody } from '../helpers/http.js';
import { startTarget, type RunningServer } from '../helpers/local-server.js';

describe('streamed chat over HTTP', () => {
  let server: RunningServer;
  let url: string;
  beforeAll(async () => {
    // Windows of 20 characters, so the short echo answer still arrives in several tokens.
    server = await startTarget({ CORS_ORIGIN: 'https://app.example.com', GUARDRAIL_STREAM_WINDOW_CHARS: '20' });
    url = `${server.url}/v1/chat/stream`;
  });
  afterAll(() => server.stop());
  const key = () => ({ 'X-Widget-Api-Key': server.secrets.widgetKey });

  it('It should stream start, tokens and done, with the security and CORS headers', async () => {
    const stream = await openEventStream(
      url,
      { sessionId: 'stream-1', message: 'Hello there, streaming world' },
      { ...key(), Origin: 'https://app.example.com' },
    );
    const events = await stream.rest();

    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['x-content-type-options']).toBe('nosniff');
    expect(stream.headers['cache-control']).toBe('no-store');
    expect(stream.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(stream.headers['x-ratelimit-limit']).toBeDefined();
    expect(events[0]).toEqual({ type: 'start', sessionId: 'stream-1' });
    const tokens = events.filter((e) => e.type === 'token').map((e) => e.delta as string);
    expect(tokens.length).toBeGreaterThan(1);
    const done = events.at(-1) as { type: string; message: { role: string; content: string } };
    expect(done.type).toBe('done');
    expect(done.message).toMatchObject({ role: 'assistant', content: 'Echo: Hello there, streaming world' });
    expect(tokens.join('')).toBe(done.message.content);
  });

  it('It should keep the streamed turn in the conversation like a JSON turn', async () => {
    await (await openEventStream(url, { sessionId: 'stream-2', message: 'Remember me' }, key())).rest();
    const conversation = await http(`${server.url}/v1/admin/conversations/stream-2`, {
      headers: { Authorization: `Bearer ${server.secrets.adminKey}` },
    });
    const body = conversation.json as { conversation: { messageCount: number }; messages: { content: string }[] };
    expect(body.conversation.messageCount).toBe(2);
    expect(body.messages.map((m) => m.content)).toEqual(['Remember me', 'Echo: Remember me']);
  });

  it.each([
    [
      'a disallowed origin',
      { Origin: 'https://evil.example.net' },
      { sessionId: 's', message: 'hi' },
      403,
      'ORIGIN_NOT_ALLOWED',
    ],
    ['no widget key', { 'X-Widget-Api-Key': '' }, { sessionId: 's', message: 'hi' }, 401, 'UNAUTHORIZED'],
    ['a bad token', { Authorization: 'Bearer not.a.token' }, { sessionId: 's', message: 'hi' }, 401, 'UNAUTHORIZED'],
    ['an unknown field', {}, { sessionId: 's', message: 'hi', role: 'system' }, 400, 'VALIDATION_FAILED'],
    ['an Idempotency-Key', { 'Idempotency-Key': 'k-1' }, { sessionId: 's', message: 'hi' }, 400, 'VALIDATION_FAILED'],
  ])('It should refuse %s with a JSON error before any event', async (_name, headers, body, status, code) => {
    const response = await postJson(url, body, { ...key(), ...headers });
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect((response.json as ErrorBody).error.code).toBe(code);
    expect(response.text).not.toContain('data:');
  });

  it('It should refuse a session that belongs to someone else with 404 before any event', async () => {
    await (await openEventStream(url, { sessionId: 'stream-3', message: 'mine' }, key())).rest();
    const token = await postJson(
      `${server.url}/v1/tokens`,
      { userId: 'user-1' },
      { Authorization: `Bearer ${server.secrets.serverKey}` },
    );
    const response = await postJson(
      url,
      { sessionId: 'stream-3', message: 'hijack' },
      { ...key(), Authorization: `Bearer ${(token.json as { token: string }).token}` },
    );
    expect(response.status).toBe(404);
  });
});
