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
});
