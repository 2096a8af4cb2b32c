/**
 * The admin API over HTTP: conversation lists with verifiable cursors, one conversation with
 * its messages, erasure, and the audit trail that records every admin call.
 */
import { randomBytes } from 'node:crypto';
import type { AuditRecord, ConversationSummary, StoredMessage } from '../helpers/api-types.js';
import { http, postJson, type HttpResponse, type ErrorBody, type List } from '../helpers/http.js';
import { startTarget, type RunningServer } from '../helpers/local-server.js';

/** Sessions created in order, one turn each; the list must return them reversed. */
const SESSIONS = ['adm-0', 'adm-1', 'adm-2', 'adm-3', 'adm-4'];
/** The turns of `adm-2`, as sent (the server stores them trimmed). */
const TURNS = ['  first  ', 'second', '\n third \t'];
const MAX_PAGES = 50;

describe('admin API over HTTP', () => {
  let server: RunningServer;

  const admin = (pathAndQuery: string, options: { method?: string; headers?: Record<string, string> } = {}) =>
    http(`${server.url}${pathAndQuery}`, {
      method: options.method ?? 'GET',
      headers: { Authorization: `Bearer ${server.secrets.adminKey}`, ...options.headers },
    });
  const chat = async (sessionId: string, message: string) => {
    const res = await postJson(
      `${server.url}/v1/chat`,
      { sessionId, message },
      { 'X-Widget-Api-Key': server.secrets.widgetKey },
    );
    expect(res.status).toBe(200);
  };
  /** GETs a list page and checks its shape. */
  const page = async <T>(pathAndQuery: string): Promise<List<T>> => {
    const res = await admin(pathAndQuery);
    expect(res.status).toBe(200);
    const body = res.json as List<T>;
    expect(Object.keys(body).sort()).toEqual(['items', 'nextCursor']);
    return body;
  };
  /** Walks a list page by page (`base` has a `?`) and returns every page. */
  const walk = async <T>(base: string): Promise<Array<List<T>>> => {
    const pages: Array<List<T>> = [];
    let cursor: string | null = null;
    do {
      const next: List<T> = await page<T>(cursor === null ? base : `${base}&cursor=${encodeURIComponent(cursor)}`);
      pages.push(next);
      cursor = next.nextCursor;
    } while (cursor !== null && pages.length < MAX_PAGES);
    expect(cursor).toBeNull();
    return pages;
  };
  const expectError = (res: HttpResponse, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect((res.json as ErrorBody).error.code).toBe(code);
    return (res.json as ErrorBody).error;
  };

  beforeAll(async () => {
    server = await startTarget({
      RATE_LIMIT_MAX_REQUESTS: '1000000',
      RATE_LIMIT_SESSION_MAX: '1000000',
      ADMIN_RATE_LIMIT_MAX: '1000000',
      AUTH_FAILURE_LIMIT: '1000000',
    });
    // Sequential on purpose: creation order is the order the list must reverse.
    for (const sessionId of SESSIONS) {
      if (sessionId === 'adm-2') for (const turn of TURNS) await chat(sessionId, turn);
      else await chat(sessionId, `hello from ${sessionId}`);
    }
  });
  afterAll(async () => {
    await server.stop();
  });

  describe('GET /v1/admin/conversations', () => {
    it('It should list every conversation newest first as {items, nextCursor}', async () => {
      // Act
      const list = await page<ConversationSummary>('/v1/admin/conversations?limit=100');

      // Assess
      expect(list.nextCursor).toBeNull();
      expect(list.items.map((item) => item.sessionId)).toEqual([...SESSIONS].reverse());
      const created = list.items.map((item) => item.createdAt);
      expect(created).toEqual([...created].sort().reverse());
      for (const item of list.items) {
        expect(Object.keys(item).sort()).toEqual(
          ['createdAt', 'messageCount', 'origin', 'sessionId', 'updatedAt', 'userId'].sort(),
        );
        expect(item.userId).toBeNull();
        expect(item.messageCount).toBe(item.sessionId === 'adm-2' ? TURNS.length * 2 : 2);
        expect(Date.parse(item.updatedAt)).toBeGreaterThanOrEqual(Date.parse(item.createdAt));
      }
    });

    it('It should use a default page size that holds every conversation here', async () => {
      // Act
      const list = await page<ConversationSummary>('/v1/admin/conversations');

      // Assess
      expect(list.items.map((item) => item.sessionId)).toEqual([...SESSIONS].reverse());
      expect(list.nextCursor).toBeNull();
    });

    it.each([1, 2, 3, 4, 5])(
      'It should walk every conversation with limit=%i without duplicates or gaps',
      async (limit) => {
        // Act
        const pages = await walk<ConversationSummary>(`/v1/admin/conversations?limit=${limit}`);

        // Assess
        for (const p of pages) expect(p.items.length).toBeLessThanOrEqual(limit);
        for (const p of pages.slice(0, -1)) expect(p.items).toHaveLength(limit);
        expect(pages.flatMap((p) => p.items.map((item) => item.sessionId))).toEqual([...SESSIONS].reverse());
      },
    );

    it.each(['anonymous', 'adm-0', 'user:adm-0', 'null'])(
      'It should list no anonymous session under userId=%s',
      async (userId) => {
        // Act
        const list = await page<ConversationSummary>(`/v1/admin/conversations?userId=${encodeURIComponent(userId)}`);

        // Assess
        expect(list).toEqual({ items: [], nextCursor: null });
      },
    );
  });

  describe('cursors', () => {
    let conversationsCursor: string;
    let auditCursor: string;
    let messagesCursor: string;

    beforeAll(async () => {
      conversationsCursor = (await page<ConversationSummary>('/v1/admin/conversations?limit=2')).nextCursor!;
      auditCursor = (await page<AuditRecord>('/v1/admin/audit?limit=1')).nextCursor!;
      const messages = await admin('/v1/admin/conversations/adm-2?limit=2');
      messagesCursor = (messages.json as { nextCursor: string }).nextCursor;
      for (const cursor of [conversationsCursor, auditCursor, messagesCursor]) expect(typeof cursor).toBe('string');
    });

    /** Replaces the character at `index` with a different base64url character. */
    const flip = (cursor: string, index: number) =>
      `${cursor.slice(0, index)}${cursor[index] === 'A' ? 'B' : 'A'}${cursor.slice(index + 1)}`;

    it('It should hand out cursors that resume the same list', async () => {
      // Act
      const next = await page<ConversationSummary>(`/v1/admin/conversations?limit=2&cursor=${conversationsCursor}`);

      // Assess
      expect(next.items.map((item) => item.sessionId)).toEqual(['adm-2', 'adm-1']);
    });

    it.each<[string, (c: { conversations: string; audit: string; messages: string }) => string]>([
      ['a flipped character in the middle', (c) => `/v1/admin/conversations?cursor=${flip(c.conversations, 30)}`],
      ['a flipped first character', (c) => `/v1/admin/conversations?cursor=${flip(c.conversations, 0)}`],
      ['a truncated cursor', (c) => `/v1/admin/conversations?cursor=${c.conversations.slice(0, -6)}`],
      ['a cursor cut to 20 characters', (c) => `/v1/admin/conversations?cursor=${c.conversations.slice(0, 20)}`],
      ['a cursor with extra characters', (c) => `/v1/admin/conversations?cursor=${c.conversations}AAAA`],
      ['random base64url', () => `/v1/admin/conversations?cursor=${randomBytes(64).toString('base64url')}`],
      [
        'random standard base64',
        () => `/v1/admin/conversations?cursor=${encodeURIComponent(randomBytes(64).toString('base64'))}`,
      ],
      ['plain JSON', () => `/v1/admin/conversations?cursor=${encodeURIComponent('{"day":"2020-01-01"}')}`],
      [
        'unencrypted base64url JSON',
        () => `/v1/admin/conversations?cursor=${Buffer.from('{"day":"2020-01-01"}').toString('base64url')}`,
      ],
      ['an over-long cursor', () => `/v1/admin/conversations?cursor=${'A'.repeat(2049)}`],
      ['a cursor from the audit list', (c) => `/v1/admin/conversations?cursor=${c.audit}`],
      ['a cursor from a message list', (c) => `/v1/admin/conversations?cursor=${c.messages}`],
      [
        'a cursor from the unfiltered list under a userId filter',
        (c) => `/v1/admin/conversations?userId=u1&cursor=${c.conversations}`,
      ],
      ['a conversations cursor on the audit list', (c) => `/v1/admin/audit?cursor=${c.conversations}`],
      ['an unfiltered audit cursor under a type filter', (c) => `/v1/admin/audit?type=admin.access&cursor=${c.audit}`],
      ['a message cursor of another conversation', (c) => `/v1/admin/conversations/adm-1?cursor=${c.messages}`],
      ['a conversations cursor on a message list', (c) => `/v1/admin/conversations/adm-2?cursor=${c.conversations}`],
    ])('It should refuse %s with 400 VALIDATION_FAILED', async (_name, build) => {
      // Prepare
      const target = build({ conversations: conversationsCursor, audit: auditCursor, messages: messagesCursor });

      // Act
      const res = await admin(target);

      // Assess
      const error = expectError(res, 400, 'VALIDATION_FAILED');
      expect(error.details?.length).toBeGreaterThan(0);
      expect(error.details?.every((d) => /cursor/.test(d.path))).toBe(true);
    });
  });

  describe('the userId filter', () => {
    const ALICE = ['alice-0', 'alice-1', 'alice-2'];

    /** Mints a widget token for `userId` with the server key. */
    const mint = async (userId: string) => {
      const res = await postJson(
        `${server.url}/v1/tokens`,
        { userId },
        {
          Authorization: `Bearer ${server.secrets.serverKey}`,
        },
      );
      expect(res.status).toBe(201);
      return (res.json as { token: string }).token;
    };
    const chatAs = async (token: string, sessionId: string) => {
      const res = await postJson(
        `${server.url}/v1/chat`,
        { sessionId, message: `hello from ${sessionId}` },
        { 'X-Widget-Api-Key': server.secrets.widgetKey, Authorization: `Bearer ${token}` },
      );
      expect(res.status).toBe(200);
    };

    beforeAll(async () => {
      const [alice, bob] = await Promise.all([mint('u-alice'), mint('u-bob')]);
      for (const sessionId of ALICE) await chatAs(alice, sessionId);
      await chatAs(bob, 'bob-0');
    });

    it.each([
      ['u-alice', [...ALICE].reverse()],
      ['u-bob', ['bob-0']],
      ['u-carol', []],
      ['anonymous', []],
    ])('It should list exactly the sessions of %s, newest first', async (userId, expected) => {
      // Act
      const list = await page<ConversationSummary>(`/v1/admin/conversations?userId=${userId}`);

      // Assess
      expect(list.items.map((item) => item.sessionId)).toEqual(expected);
      expect(list.items.every((item) => item.userId === userId)).toBe(true);
      expect(list.nextCursor).toBeNull();
    });

    it('It should walk one user with limit=1 and refuse that cursor for another user or no filter', async () => {
      // Act
      const pages = await walk<ConversationSummary>('/v1/admin/conversations?userId=u-alice&limit=1');
      const first = await page<ConversationSummary>('/v1/admin/conversations?userId=u-alice&limit=1');
      const foreign = await Promise.all([
        admin(`/v1/admin/conversations?userId=u-bob&limit=1&cursor=${first.nextCursor}`),
        admin(`/v1/admin/conversations?limit=1&cursor=${first.nextCursor}`),
        admin(`/v1/admin/audit?limit=1&cursor=${first.nextCursor}`),
      ]);

      // Assess
      expect(pages.flatMap((p) => p.items.map((item) => item.sessionId))).toEqual([...ALICE].reverse());
      for (const res of foreign) expectError(res, 400, 'VALIDATION_FAILED');
    });

    it('It should show the owner on the conversation and keep it in the unfiltered list', async () => {
      // Act
      const one = await admin('/v1/admin/conversations/bob-0');
      const all = await page<ConversationSummary>('/v1/admin/conversations?limit=100');

      // Assess
      expect((one.json as { conversation: ConversationSummary }).conversation).toMatchObject({
        userId: 'u-bob',
        messageCount: 2,
      });
      expect(all.items.map((item) => item.sessionId)).toEqual([
        'bob-0',
        ...[...ALICE].reverse(),
        ...[...SESSIONS].reverse(),
      ]);
    });
  });

  describe('GET /v1/admin/conversations/{sessionId}', () => {
    it('It should return the conversation and its messages oldest first, as sent and echoed', async () => {
      // Act
      const res = await admin('/v1/admin/conversations/adm-2');

      // Assess
      expect(res.status).toBe(200);
      const body = res.json as {
        conversation: ConversationSummary;
        messages: StoredMessage[];
        nextCursor: string | null;
      };
      expect(Object.keys(body).sort()).toEqual(['conversation', 'messages', 'nextCursor']);
      expect(body.nextCursor).toBeNull();
      expect(body.conversation).toMatchObject({ sessionId: 'adm-2', userId: null, messageCount: TURNS.length * 2 });
      expect(body.conversation.messageCount).toBe(body.messages.length);
      const expected = TURNS.flatMap((turn) => [
        { role: 'user', content: turn.trim() },
        { role: 'assistant', content: `Echo: ${turn.trim()}` },
      ]);
      expect(body.messages.map(({ role, content }) => ({ role, content }))).toEqual(expected);
      const times = body.messages.map((m) => Date.parse(m.createdAt));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(Date.parse(body.conversation.updatedAt)).toBe(times.at(-2));
    });

    it.each([1, 2, 4, 5])('It should page through the messages with limit=%i in order', async (limit) => {
      // Act
      const pages: StoredMessage[][] = [];
      let cursor: string | null = null;
      do {
        const res = await admin(
          `/v1/admin/conversations/adm-2?limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`,
        );
        expect(res.status).toBe(200);
        const body = res.json as { messages: StoredMessage[]; nextCursor: string | null };
        pages.push(body.messages);
        cursor = body.nextCursor;
      } while (cursor !== null && pages.length < MAX_PAGES);

      // Assess
      expect(cursor).toBeNull();
      for (const p of pages) expect(p.length).toBeLessThanOrEqual(limit);
      expect(pages.flat().map((m) => m.content)).toEqual(
        TURNS.flatMap((turn) => [turn.trim(), `Echo: ${turn.trim()}`]),
      );
    });

    it.each(['never-created', 'ADM-2', 'adm-2.', 'adm'])(
      'It should answer 404 NOT_FOUND for the unknown session %j',
      async (sessionId) => {
        // Act
        const res = await admin(`/v1/admin/conversations/${sessionId}`);

        // Assess
        expectError(res, 404, 'NOT_FOUND');
      },
    );

    it.each([
      ['a space', 'bad%20id'],
      ['129 characters', 'a'.repeat(129)],
      ['non-ASCII letters', '%C3%BCnicode'],
      ['an encoded slash', 'a%2Fb'],
      ['an encoded traversal', '..%2Fadm-2'],
      ['a semicolon', 'adm-2%3Bx'],
      ['a NUL', 'adm%002'],
    ])('It should refuse a session id with %s with 400 at path.sessionId', async (_name, encoded) => {
      // Act
      const responses = await Promise.all([
        admin(`/v1/admin/conversations/${encoded}`),
        admin(`/v1/admin/conversations/${encoded}`, { method: 'DELETE' }),
      ]);

      // Assess
      for (const res of responses) {
        const error = expectError(res, 400, 'VALIDATION_FAILED');
        expect(error.details?.map((d) => d.path)).toEqual(['path.sessionId']);
      }
    });
  });

  describe('authentication', () => {
    it.each<[string, () => Record<string, string>]>([
      ['no Authorization header', () => ({})],
      ['the widget key as a bearer', () => ({ Authorization: `Bearer ${server.secrets.widgetKey}` })],
      ['the admin key in the widget header', () => ({ 'X-Widget-Api-Key': server.secrets.adminKey })],
      ['the admin key with Basic', () => ({ Authorization: `Basic ${server.secrets.adminKey}` })],
      ['a wrong key', () => ({ Authorization: `Bearer ${randomBytes(36).toString('base64url')}` })],
    ])('It should refuse %s with 401 UNAUTHORIZED', async (_name, headers) => {
      // Act
      const res = await http(`${server.url}/v1/admin/conversations`, { headers: headers() });

      // Assess
      expectError(res, 401, 'UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    });

    it('It should refuse the server key (role tokens:mint) with 403 FORBIDDEN', async () => {
      // Act
      const res = await http(`${server.url}/v1/admin/conversations`, {
        headers: { Authorization: `Bearer ${server.secrets.serverKey}` },
      });

      // Assess
      expectError(res, 403, 'FORBIDDEN');
    });
  });

  describe('DELETE /v1/admin/conversations/{sessionId}', () => {
    const DOOMED = 'adm-doomed';

    it('It should erase a conversation, answer 404 afterwards and record conversation.deleted', async () => {
      // Prepare
      await chat(DOOMED, 'one');
      await chat(DOOMED, 'two');
      expect((await admin(`/v1/admin/conversations/${DOOMED}`)).status).toBe(200);

      // Act
      const deleted = await admin(`/v1/admin/conversations/${DOOMED}`, {
        method: 'DELETE',
        headers: { 'X-Request-Id': 'delete-trace-1' },
      });

      // Assess
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      expectError(await admin(`/v1/admin/conversations/${DOOMED}`), 404, 'NOT_FOUND');
      expectError(await admin(`/v1/admin/conversations/${DOOMED}`, { method: 'DELETE' }), 404, 'NOT_FOUND');
      const list = await page<ConversationSummary>('/v1/admin/conversations?limit=100');
      expect(list.items.map((item) => item.sessionId)).not.toContain(DOOMED);
      const audit = await page<AuditRecord>('/v1/admin/audit?type=conversation.deleted&limit=100');
      const events = audit.items.filter((event) => event.detail.sessionId === DOOMED);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'conversation.deleted',
        actor: 'admin',
        ip: '127.0.0.1',
        method: 'DELETE',
        route: '/v1/admin/conversations/{sessionId}',
        requestId: 'delete-trace-1',
        // META and four messages
        detail: { sessionId: DOOMED, items: 5 },
      });
      expect(audit.items.every((event) => event.type === 'conversation.deleted')).toBe(true);
    });

    it('It should start a fresh conversation when an erased session id is used again', async () => {
      // Prepare
      await chat('adm-reborn', 'before');
      expect((await admin('/v1/admin/conversations/adm-reborn', { method: 'DELETE' })).status).toBe(204);

      // Act
      await chat('adm-reborn', 'after');

      // Assess
      const res = await admin('/v1/admin/conversations/adm-reborn');
      const body = res.json as { conversation: ConversationSummary; messages: StoredMessage[] };
      expect(body.conversation.messageCount).toBe(2);
      expect(body.messages.map((m) => m.content)).toEqual(['after', 'Echo: after']);
      expect((await admin('/v1/admin/conversations/adm-reborn', { method: 'DELETE' })).status).toBe(204);
    });
  });

  describe('GET /v1/admin/audit', () => {
    it('It should record admin.access for each admin call, with its outcome and no credentials', async () => {
      // Prepare
      const requestId = `audit-trace-${Date.now()}`;

      // Act
      const calls = await Promise.all([
        admin('/v1/admin/conversations?limit=1', { headers: { 'X-Request-Id': `${requestId}-list` } }),
        admin('/v1/admin/conversations/adm-0', { headers: { 'X-Request-Id': `${requestId}-get` } }),
        admin('/v1/admin/conversations/missing', { headers: { 'X-Request-Id': `${requestId}-404` } }),
        admin('/v1/admin/conversations?limit=0', { headers: { 'X-Request-Id': `${requestId}-400` } }),
      ]);

      // Assess
      expect(calls.map((res) => res.status)).toEqual([200, 200, 404, 400]);
      const res = await admin('/v1/admin/audit?type=admin.access&limit=100');
      expect(res.status).toBe(200);
      const items = (res.json as List<AuditRecord>).items;
      expect(items.every((event) => event.type === 'admin.access')).toBe(true);
      // The root server key reached one admin route above and was refused (403), under its own name.
      expect(new Set(items.map((event) => event.actor))).toEqual(new Set(['admin', 'server']));
      const byRequest = new Map(items.map((event) => [event.requestId, event]));
      expect(byRequest.get(`${requestId}-list`)).toMatchObject({
        method: 'GET',
        route: '/v1/admin/conversations',
        ip: '127.0.0.1',
        detail: { status: 200 },
      });
      expect(byRequest.get(`${requestId}-get`)).toMatchObject({
        route: '/v1/admin/conversations/{sessionId}',
        detail: { status: 200, sessionId: 'adm-0' },
      });
      expect(byRequest.get(`${requestId}-404`)).toMatchObject({ detail: { status: 404, sessionId: 'missing' } });
      expect(byRequest.get(`${requestId}-400`)).toMatchObject({ detail: { status: 400 } });
      for (const secret of Object.values(server.secrets)) expect(res.text).not.toContain(secret);
    });

    it('It should not record admin.access for a refused credential', async () => {
      // Prepare
      const requestId = `refused-${Date.now()}`;

      // Act
      const refused = await http(`${server.url}/v1/admin/conversations`, {
        headers: { Authorization: 'Bearer not-the-admin-key', 'X-Request-Id': requestId },
      });

      // Assess
      expect(refused.status).toBe(401);
      const list = await page<AuditRecord>('/v1/admin/audit?type=admin.access&limit=100');
      expect(list.items.some((event) => event.requestId === requestId)).toBe(false);
    });

    it.each(['nope', 'ADMIN.ACCESS', 'admin', 'conversation.created', 'admin.access,auth.failure'])(
      'It should refuse the unknown audit type %j with 400 at query.type',
      async (type) => {
        // Act
        const res = await admin(`/v1/admin/audit?type=${encodeURIComponent(type)}`);

        // Assess
        const error = expectError(res, 400, 'VALIDATION_FAILED');
        expect(error.details?.map((d) => d.path)).toEqual(['query.type']);
      },
    );

    it.each([
      ['admin.access events', '/v1/admin/audit?type=admin.access&limit=3'],
      ['every event', '/v1/admin/audit?limit=4'],
    ])('It should walk %s newest first without duplicates or gaps', async (_name, base) => {
      // Act
      const pages = await walk<AuditRecord>(base);

      // Assess: the walk equals a walk in pages of 100 (later calls only add newer events)
      const walked = pages.flatMap((p) => p.items.map((event) => event.id));
      expect(walked.length).toBeGreaterThan(6);
      expect(new Set(walked).size).toBe(walked.length);
      expect(walked).toEqual([...walked].sort().reverse());
      const full = await walk<AuditRecord>(base.replace(/limit=\d+/, 'limit=100'));
      const fullIds = full.flatMap((p) => p.items.map((event) => event.id));
      expect(fullIds.filter((id) => id <= walked[0]!)).toEqual(walked);
    });
  });
});
