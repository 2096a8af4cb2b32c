/**
 * The chat turn in three DynamoDB waves (issue 20), from outside as an attacker would: concurrent
 * turns in one session (each message stored once, in order, `messageCount` equal), a stranger
 * racing the owner's first turn on a new session, a revoked token while rate limited (401, and
 * its user's limits untouched), an Idempotency-Key retry, and the webhook events of concurrent
 * turns (one `conversation.created`, each sequence once). On DynamoDB Local.
 */
import { createServer, type Server } from 'node:http';
import { http, postJson, type HttpResponse } from '../helpers/http.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

interface Message {
  role: string;
  content: string;
  createdAt: string;
}
interface Conversation {
  conversation: { sessionId: string; userId: string | null; messageCount: number };
  messages: Message[];
  nextCursor: string | null;
}

const mint = async (server: RunningServer, userId: string): Promise<{ token: string; jti: string }> => {
  const res = await postJson(
    `${server.url}/v1/tokens`,
    { userId },
    { Authorization: `Bearer ${server.secrets.serverKey}` },
  );
  expect(res.status).toBe(201);
  return res.json as { token: string; jti: string };
};
const bearer = (server: RunningServer, token: string, extra: Record<string, string> = {}) => ({
  'X-Widget-Api-Key': server.secrets.widgetKey,
  Authorization: `Bearer ${token}`,
  ...extra,
});
const chat = (server: RunningServer, sessionId: string, message: string, token: string, extra = {}) =>
  postJson(`${server.url}/v1/chat`, { sessionId, message }, bearer(server, token, extra));
const conversation = async (server: RunningServer, sessionId: string): Promise<Conversation> => {
  const res = await http(`${server.url}/v1/admin/conversations/${sessionId}?limit=100`, {
    headers: { Authorization: `Bearer ${server.secrets.adminKey}` },
  });
  expect(res.status).toBe(200);
  return res.json as Conversation;
};

describe('chat turns in three waves (issue 20), from outside', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_USER_MAX: '1000' });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('should store every one of 20 concurrent turns in one session once, each answer after its message, messageCount equal', async () => {
    // Prepare
    const { token } = await mint(server, 'racer');
    const sessionId = 'waves-concurrent';
    expect((await chat(server, sessionId, 'opening', token)).status).toBe(200);
    const texts = Array.from({ length: 20 }, (_, i) => `turn ${i}`);

    // Act
    const results = await Promise.all(texts.map((text) => chat(server, sessionId, text, token)));

    // Assess
    expect(results.map((r) => r.status)).toEqual(texts.map(() => 200));
    const body = await conversation(server, sessionId);
    expect(body.nextCursor).toBeNull();
    expect(body.conversation.messageCount).toBe(body.messages.length);
    expect(body.messages).toHaveLength(2 * (texts.length + 1));
    for (const text of ['opening', ...texts]) {
      const asked = body.messages.findIndex((m) => m.role === 'user' && m.content === text);
      const answered = body.messages.findIndex((m) => m.role === 'assistant' && m.content === `Echo: ${text}`);
      expect(body.messages.filter((m) => m.content === text)).toHaveLength(1);
      expect(asked).toBeGreaterThanOrEqual(0);
      expect(answered).toBeGreaterThan(asked);
    }
  });

  it.each(Array.from({ length: 8 }, (_, i) => [i]))(
    'should never store a stranger’s message when it races the owner’s first turn on a new session (%i)',
    async (i) => {
      // Prepare
      const [owner, stranger] = await Promise.all([mint(server, `owner-${i}`), mint(server, `stranger-${i}`)]);
      const sessionId = `waves-race-${i}`;

      // Act
      const [mine, theirs] = await Promise.all([
        chat(server, sessionId, 'mine', owner.token),
        chat(server, sessionId, 'theirs', stranger.token),
      ]);

      // Assess: exactly one wins; the session holds only the winner's turn.
      expect([mine.status, theirs.status].sort()).toEqual([200, 404]);
      const winner = mine.status === 200 ? 'mine' : 'theirs';
      const body = await conversation(server, sessionId);
      expect(body.conversation.userId).toBe(winner === 'mine' ? `owner-${i}` : `stranger-${i}`);
      expect(body.messages.map((m) => m.content)).toEqual([winner, `Echo: ${winner}`]);
      expect(body.conversation.messageCount).toBe(2);
    },
  );

  it('should store an Idempotency-Key turn once when it is retried, concurrently and after', async () => {
    // Prepare
    const { token } = await mint(server, 'idem-user');
    const sessionId = 'waves-idem';
    expect((await chat(server, sessionId, 'before', token)).status).toBe(200);
    const key = { 'Idempotency-Key': 'waves-idem-1' };

    // Act
    const first = await Promise.all([0, 1, 2].map(() => chat(server, sessionId, 'once', token, key)));
    const later = await chat(server, sessionId, 'once', token, key);

    // Assess
    expect(first.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(first.every((r: HttpResponse) => r.status === 200 || r.status === 409)).toBe(true);
    expect(later.status).toBe(200);
    const body = await conversation(server, sessionId);
    expect(body.messages.map((m) => m.content)).toEqual(['before', 'Echo: before', 'once', 'Echo: once']);
    expect(body.conversation.messageCount).toBe(4);
  });
});

describe('a revoked token while rate limited (issue 20)', () => {
  const USER_MAX = 3;
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_USER_MAX: String(USER_MAX) });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('should refuse a revoked token as revoked (401), not as rate limited, past the user limit', async () => {
    // Prepare
    const { token } = await mint(server, 'revoked-limited');
    expect(
      (await http(`${server.url}/v1/tokens/revoke`, { method: 'POST', headers: bearer(server, token) })).status,
    ).toBe(204);

    // Act
    const results = await Promise.all(
      Array.from({ length: USER_MAX + 2 }, () => chat(server, 'waves-revoked', 'hi', token)),
    );

    // Assess
    expect(results.map((r) => r.status)).toEqual(results.map(() => 401));
  });

  it('should not let a revoked (leaked) token spend its user’s rate limit: the user’s new token still works', async () => {
    // Prepare: the stolen token is revoked; the attacker keeps sending it.
    const stolen = await mint(server, 'victim');
    expect(
      (await http(`${server.url}/v1/tokens/revoke`, { method: 'POST', headers: bearer(server, stolen.token) })).status,
    ).toBe(204);
    for (let i = 0; i < USER_MAX + 1; i += 1) {
      expect((await chat(server, 'attacker-session', 'spam', stolen.token)).status).toBe(401);
    }
    const fresh = await mint(server, 'victim');

    // Act
    const res = await chat(server, 'victim-session', 'hello', fresh.token);

    // Assess
    expect(res.status).toBe(200);
  });
});

describe('webhook events of concurrent turns (issue 20)', () => {
  interface Event {
    type: string;
    data: { sessionId: string; role?: string; sequence?: number };
  }
  const events: Event[] = [];
  let receiver: Server;
  let server: RunningServer;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Event);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    const address = receiver.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    server = await startServer({
      WEBHOOK_URL: `http://127.0.0.1:${port}/hooks`,
      WEBHOOK_SIGNING_SECRET: 'x'.repeat(40),
    });
  });
  afterAll(async () => {
    await server.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('should send one conversation.created and each message sequence once when 12 turns open a session together', async () => {
    // Prepare
    const { token } = await mint(server, 'hooked');
    const sessionId = 'waves-hooks';
    const turns = 12;

    // Act
    const results = await Promise.all(
      Array.from({ length: turns }, (_, i) => chat(server, sessionId, `hook ${i}`, token)),
    );
    const deadline = Date.now() + 20_000;
    const ofSession = () => events.filter((e) => e.data.sessionId === sessionId);
    while (ofSession().length < 2 * turns + 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Assess
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    const got = ofSession();
    expect(got.filter((e) => e.type === 'conversation.created')).toHaveLength(1);
    const sequences = got.filter((e) => e.type === 'message.created').map((e) => e.data.sequence);
    expect([...sequences].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: 2 * turns }, (_, i) => i + 1),
    );
  });
});
