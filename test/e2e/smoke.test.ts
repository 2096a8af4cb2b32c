import { http, postJson } from '../helpers/http.js';
import { startTarget, type RunningServer } from '../helpers/local-server.js';

describe('local server smoke', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTarget();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('It should answer /health and echo a chat message', async () => {
    const health = await http(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    const chat = await postJson(
      `${server.url}/v1/chat`,
      { sessionId: 's1', message: 'hi' },
      { 'X-Widget-Api-Key': server.secrets.widgetKey },
    );
    expect(chat.status).toBe(200);
  });

  it('should replay a POST /v1/chat with the same Idempotency-Key and refuse the key on another body', async () => {
    // Prepare
    const headers = { 'X-Widget-Api-Key': server.secrets.widgetKey, 'Idempotency-Key': 'smoke-idem-1' };
    const body = { sessionId: 'smoke-idem', message: 'once only' };

    // Act
    const first = await postJson(`${server.url}/v1/chat`, body, headers);
    const again = await postJson(`${server.url}/v1/chat`, body, headers);
    const other = await postJson(`${server.url}/v1/chat`, { ...body, message: 'changed' }, headers);

    // Assess
    expect(first.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(other.status).toBe(422);
    expect((other.json as { error: { code: string } }).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});
