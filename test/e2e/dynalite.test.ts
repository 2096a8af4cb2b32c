/**
 * The main flows on the fallback engine (`LOCAL_DYNAMODB=dynalite`, used when Java is missing):
 * the handlers must behave exactly as on DynamoDB Local, including GSI paging and cursors.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditRecord, ConversationSummary, StoredMessage } from '../helpers/api-types.js';
import { http, postJson, type HttpResponse, type List } from '../helpers/http.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

const SESSIONS = ['dyn-a', 'dyn-b', 'dyn-c'];
const MAX_PAGES = 50;

describe('the dynalite fallback engine', () => {
  let server: RunningServer;

  const chat = (sessionId: string, message: string) =>
    postJson(`${server.url}/v1/chat`, { sessionId, message }, { 'X-Widget-Api-Key': server.secrets.widgetKey });
  const admin = (pathAndQuery: string, method = 'GET') =>
    http(`${server.url}${pathAndQuery}`, { method, headers: { Authorization: `Bearer ${server.secrets.adminKey}` } });
  const errorCode = (res: HttpResponse) => (res.json as { error: { code: string } }).error.code;
  /** Walks a list (`base` has a `?`) and returns its items in order. */
  const walk = async <T>(base: string, key: 'items' | 'messages' = 'items'): Promise<T[]> => {
    const items: T[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < MAX_PAGES; pages += 1) {
      const res = await admin(cursor === null ? base : `${base}&cursor=${cursor}`);
      expect(res.status).toBe(200);
      const body = res.json as Record<string, unknown> & { nextCursor: string | null };
      items.push(...(body[key] as T[]));
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    expect(cursor).toBeNull();
    return items;
  };

  beforeAll(async () => {
    server = await startServer({
      LOCAL_DYNAMODB: 'dynalite',
      RATE_LIMIT_MAX_REQUESTS: '1000000',
      RATE_LIMIT_SESSION_MAX: '1000000',
      ADMIN_RATE_LIMIT_MAX: '1000000',
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('It should run on dynalite, persisted in the data directory', () => {
    // Assess
    expect(server.output()).toMatch(/DynamoDB: dynalite\n/);
    expect(server.output()).not.toMatch(/DynamoDB Local/);
    expect(existsSync(join(server.dataDir, 'dynalite'))).toBe(true);
  });

  it('should name in its banner the secrets the environment sets instead of the file, never their values', () => {
    // Assess: the helper passes four of the five secrets in the environment.
    expect(server.output()).toMatch(
      /set in the environment, used instead of the file: WIDGET_API_KEY, ADMIN_API_KEY, SERVER_API_KEY, WIDGET_SIGNING_SECRET\n/,
    );
    for (const value of Object.values(server.secrets)) expect(server.output()).not.toContain(value);
  });

  it('It should answer /health', async () => {
    // Act
    const res = await http(`${server.url}/health`);

    // Assess
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('It should keep two chat turns in one session', async () => {
    // Act
    const first = await chat('dyn-a', 'hello');
    const second = await chat('dyn-a', '  again  ');

    // Assess
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(first.json).toMatchObject({ sessionId: 'dyn-a', message: { role: 'assistant', content: 'Echo: hello' } });
    expect(second.json).toMatchObject({ sessionId: 'dyn-a', message: { role: 'assistant', content: 'Echo: again' } });
  });

  it('It should list conversations newest first, also page by page', async () => {
    // Prepare
    for (const sessionId of SESSIONS.slice(1)) expect((await chat(sessionId, `hi ${sessionId}`)).status).toBe(200);

    // Act
    const all = await walk<ConversationSummary>('/v1/admin/conversations?limit=100');
    const paged = await walk<ConversationSummary>('/v1/admin/conversations?limit=1');

    // Assess
    expect(all.map((item) => item.sessionId)).toEqual([...SESSIONS].reverse());
    expect(paged).toEqual(all);
    expect(all.map((item) => item.messageCount)).toEqual([2, 2, 4]);
    expect(all.every((item) => item.userId === null)).toBe(true);
  });

  it('It should refuse a tampered cursor and a foreign userId filter', async () => {
    // Prepare
    const first = (await admin('/v1/admin/conversations?limit=1')).json as List<ConversationSummary>;
    const cursor = first.nextCursor!;
    const tampered = `${cursor.slice(0, 20)}${cursor[20] === 'A' ? 'B' : 'A'}${cursor.slice(21)}`;

    // Act
    const responses = await Promise.all([
      admin(`/v1/admin/conversations?cursor=${tampered}`),
      admin(`/v1/admin/conversations?userId=u1&cursor=${cursor}`),
    ]);

    // Assess
    for (const res of responses) {
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('VALIDATION_FAILED');
    }
    expect((await admin('/v1/admin/conversations?userId=anonymous')).json).toEqual({ items: [], nextCursor: null });
  });

  it("It should list a verified user's sessions under the userId filter (the byUser index)", async () => {
    // Prepare
    const minted = await postJson(
      `${server.url}/v1/tokens`,
      { userId: 'dyn-user' },
      { Authorization: `Bearer ${server.secrets.serverKey}` },
    );
    expect(minted.status).toBe(201);
    const token = (minted.json as { token: string }).token;
    for (const sessionId of ['dyn-u1', 'dyn-u2']) {
      const res = await postJson(
        `${server.url}/v1/chat`,
        { sessionId, message: 'hi' },
        { 'X-Widget-Api-Key': server.secrets.widgetKey, Authorization: `Bearer ${token}` },
      );
      expect(res.status).toBe(200);
    }

    // Act
    const paged = await walk<ConversationSummary>('/v1/admin/conversations?userId=dyn-user&limit=1');

    // Assess
    expect(paged.map((item) => [item.sessionId, item.userId])).toEqual([
      ['dyn-u2', 'dyn-user'],
      ['dyn-u1', 'dyn-user'],
    ]);
  });

  it('It should return one conversation with its messages oldest first, also page by page', async () => {
    // Act
    const res = await admin('/v1/admin/conversations/dyn-a');
    const paged = await walk<StoredMessage>('/v1/admin/conversations/dyn-a?limit=1', 'messages');

    // Assess
    expect(res.status).toBe(200);
    const body = res.json as {
      conversation: ConversationSummary;
      messages: StoredMessage[];
      nextCursor: string | null;
    };
    expect(body.conversation).toMatchObject({ sessionId: 'dyn-a', messageCount: 4 });
    expect(body.nextCursor).toBeNull();
    expect(body.messages.map(({ role, content }) => [role, content])).toEqual([
      ['user', 'hello'],
      ['assistant', 'Echo: hello'],
      ['user', 'again'],
      ['assistant', 'Echo: again'],
    ]);
    expect(paged).toEqual(body.messages);
  });

  it('It should erase a conversation and record conversation.deleted', async () => {
    // Act
    const deleted = await admin('/v1/admin/conversations/dyn-a', 'DELETE');

    // Assess
    expect(deleted.status).toBe(204);
    const again = await admin('/v1/admin/conversations/dyn-a', 'DELETE');
    expect([again.status, errorCode(again)]).toEqual([404, 'NOT_FOUND']);
    const get = await admin('/v1/admin/conversations/dyn-a');
    expect([get.status, errorCode(get)]).toEqual([404, 'NOT_FOUND']);
    const list = await walk<ConversationSummary>('/v1/admin/conversations?limit=100');
    expect(list.map((item) => item.sessionId)).toEqual(['dyn-u2', 'dyn-u1', 'dyn-c', 'dyn-b']);
    const events = await walk<AuditRecord>('/v1/admin/audit?type=conversation.deleted&limit=100');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'admin', detail: { sessionId: 'dyn-a', items: 5 } });
  });

  it('It should list the audit trail newest first, the same in pages of 2 as in one page', async () => {
    // Act
    const before = await walk<AuditRecord>('/v1/admin/audit?type=admin.access&limit=2');
    const full = await walk<AuditRecord>('/v1/admin/audit?type=admin.access&limit=100');

    // Assess
    const ids = before.map((event) => event.id);
    expect(ids.length).toBeGreaterThan(10);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(full.map((event) => event.id).filter((id) => id <= ids[0]!)).toEqual(ids);
    expect(before.every((event) => event.type === 'admin.access' && event.actor === 'admin')).toBe(true);
    expect(before.map((event) => event.route)).toContain('/v1/admin/conversations/{sessionId}');
  });

  it('It should replay an Idempotency-Key turn and refuse its reuse with another message', async () => {
    const headers = { 'X-Widget-Api-Key': server.secrets.widgetKey, 'Idempotency-Key': 'dyn-idem-1' };
    const first = await postJson(`${server.url}/v1/chat`, { sessionId: 'dyn-idem', message: 'once' }, headers);
    const again = await postJson(`${server.url}/v1/chat`, { sessionId: 'dyn-idem', message: 'once' }, headers);
    const reused = await postJson(`${server.url}/v1/chat`, { sessionId: 'dyn-idem', message: 'twice' }, headers);

    expect(first.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(errorCode(reused)).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('It should stream a chat turn', async () => {
    const response = await postJson(
      `${server.url}/v1/chat/stream`,
      { sessionId: 'dyn-stream', message: 'streamed' },
      { 'X-Widget-Api-Key': server.secrets.widgetKey },
    );
    expect(response.status).toBe(200);
    expect(response.text).toContain('"type":"done"');
  });
});
