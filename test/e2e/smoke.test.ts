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

  it('should store every message of concurrent turns in one session once, with messageCount equal to them', async () => {
    // Prepare: turns that race the claim (the session as read is stale for all but one).
    const sessionId = 'smoke-concurrent';
    const turns = Array.from({ length: 8 }, (_, i) => `turn ${i}`);

    // Act
    const answers = await Promise.all(
      turns.map((message) =>
        postJson(`${server.url}/v1/chat`, { sessionId, message }, { 'X-Widget-Api-Key': server.secrets.widgetKey }),
      ),
    );
    const stored = await http(`${server.url}/v1/admin/conversations/${sessionId}`, {
      headers: { Authorization: `Bearer ${server.secrets.adminKey}` },
    });

    // Assess
    expect(answers.map((a) => a.status)).toEqual(turns.map(() => 200));
    const { conversation, messages } = stored.json as {
      conversation: { messageCount: number };
      messages: Array<{ role: string; content: string }>;
    };
    const asked = messages.filter((m) => m.role === 'user').map((m) => m.content);
    expect([...asked].sort()).toEqual(turns);
    expect(messages.filter((m) => m.role === 'assistant')).toHaveLength(turns.length);
    expect(conversation.messageCount).toBe(messages.length);
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
