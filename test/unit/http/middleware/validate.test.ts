import { build as buildChat } from '../../../../lambdas/handlers/post-chat.js';
import { build as buildAudit } from '../../../../lambdas/handlers/admin-list-audit.js';
import { build as buildGetConversation } from '../../../../lambdas/handlers/admin-get-conversation.js';
import { chatRequest, errorOf, fakeRuntime, invoke } from '../../../helpers/fake-runtime.js';

function setup() {
  const fake = fakeRuntime();
  return {
    ...fake,
    chat: buildChat(fake.runtime),
    audit: buildAudit(fake.runtime),
    getConversation: buildGetConversation(fake.runtime),
  };
}

const SESSION_RULE = 'must be 1–128 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-"';

describe('validate middleware', () => {
  describe('body', () => {
    it('It should pass a valid body to the handler', async () => {
      // Prepare
      const { chat, keys } = setup();

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, { sessionId: 'Ab0._:-', message: 'hi' }));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(response.json).toMatchObject({
        sessionId: 'Ab0._:-',
        message: { role: 'assistant', content: 'Echo: hi' },
      });
    });

    it.each([
      [
        'an unknown field',
        { sessionId: 's-1', message: 'hi', userId: 'admin' },
        [{ path: 'body.userId', message: 'is not an allowed field' }],
      ],
      [
        'two unknown fields',
        { sessionId: 's-1', message: 'hi', a: 1, b: 2 },
        [
          { path: 'body.a', message: 'is not an allowed field' },
          { path: 'body.b', message: 'is not an allowed field' },
        ],
      ],
      [
        'a prototype key',
        JSON.parse('{"sessionId":"s-1","message":"hi","__proto__":{"x":1}}') as unknown,
        [{ path: 'body.__proto__', message: 'is not an allowed field' }],
      ],
      ['a missing sessionId', { message: 'hi' }, [{ path: 'body.sessionId', message: 'must be a string' }]],
      ['a missing message', { sessionId: 's-1' }, [{ path: 'body.message', message: 'must be a string' }]],
      [
        'a numeric sessionId',
        { sessionId: 42, message: 'hi' },
        [{ path: 'body.sessionId', message: 'must be a string' }],
      ],
      ['a null message', { sessionId: 's-1', message: null }, [{ path: 'body.message', message: 'must be a string' }]],
      [
        'an array message',
        { sessionId: 's-1', message: ['hi'] },
        [{ path: 'body.message', message: 'must be a string' }],
      ],
      [
        'an object message',
        { sessionId: 's-1', message: { text: 'hi' } },
        [{ path: 'body.message', message: 'must be a string' }],
      ],
      ['an empty sessionId', { sessionId: '', message: 'hi' }, [{ path: 'body.sessionId', message: SESSION_RULE }]],
      [
        'a sessionId of 129 characters',
        { sessionId: 'a'.repeat(129), message: 'hi' },
        [{ path: 'body.sessionId', message: SESSION_RULE }],
      ],
      [
        'a sessionId with a space',
        { sessionId: 'a b', message: 'hi' },
        [{ path: 'body.sessionId', message: SESSION_RULE }],
      ],
      [
        'a sessionId with a slash',
        { sessionId: 'a/b', message: 'hi' },
        [{ path: 'body.sessionId', message: SESSION_RULE }],
      ],
      [
        'a sessionId with a hash',
        { sessionId: 'SESSION#x', message: 'hi' },
        [{ path: 'body.sessionId', message: SESSION_RULE }],
      ],
      [
        'a sessionId with a trailing newline',
        { sessionId: 's-1\n', message: 'hi' },
        [{ path: 'body.sessionId', message: SESSION_RULE }],
      ],
      [
        'a sessionId with a non-ASCII letter',
        { sessionId: 's\u00e9', message: 'hi' },
        [{ path: 'body.sessionId', message: SESSION_RULE }],
      ],
      [
        'a sessionId with a NUL',
        { sessionId: 's\u0000', message: 'hi' },
        [{ path: 'body.sessionId', message: SESSION_RULE }],
      ],
      ['an empty message', { sessionId: 's-1', message: '' }, [{ path: 'body.message', message: 'must not be empty' }]],
      [
        'a whitespace-only message',
        { sessionId: 's-1', message: ' \n\t ' },
        [{ path: 'body.message', message: 'must not be empty' }],
      ],
      [
        'a message of 4001 characters',
        { sessionId: 's-1', message: 'a'.repeat(4001) },
        [{ path: 'body.message', message: 'must be at most 4000 characters' }],
      ],
      [
        'a message of 4001 emoji',
        { sessionId: 's-1', message: '\u{1f600}'.repeat(4001) },
        [{ path: 'body.message', message: 'must be at most 4000 characters' }],
      ],
      [
        'a message with a NUL',
        { sessionId: 's-1', message: 'a\u0000b' },
        [{ path: 'body.message', message: 'must not contain NUL characters' }],
      ],
    ])('It should answer 400 VALIDATION_FAILED for %s', async (_label, body, details) => {
      // Prepare
      const { chat, keys } = setup();

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, body));

      // Assess
      expect(response.statusCode).toBe(400);
      expect(errorOf(response)).toEqual({ code: 'VALIDATION_FAILED', message: 'The request is not valid.', details });
    });

    it.each([
      ['an array', []],
      ['a string', 'hello'],
      ['a number', 42],
      ['null', null],
    ])('It should answer 400 VALIDATION_FAILED for a body that is %s', async (_label, body) => {
      // Prepare
      const { chat, keys } = setup();

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, JSON.stringify(body)));

      // Assess
      expect(response.statusCode).toBe(400);
      expect(errorOf(response)).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'body' }] });
    });

    it.each([
      ['a sessionId of 128 characters', { sessionId: 'a'.repeat(128), message: 'hi' }],
      ['a message of 4000 characters', { sessionId: 's-1', message: 'a'.repeat(4000) }],
      ['a message of 4000 emoji (8000 UTF-16 units)', { sessionId: 's-1', message: '\u{1f600}'.repeat(4000) }],
      ['a message of 4000 characters inside blanks', { sessionId: 's-1', message: `  ${'a'.repeat(4000)}\n` }],
    ])('It should accept %s', async (_label, body) => {
      // Prepare
      const { chat, keys } = setup();

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, body));

      // Assess
      expect(response.statusCode).toBe(200);
    });

    it('It should trim the message before the handler sees it', async () => {
      // Prepare
      const { chat, keys, conversations } = setup();

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, { sessionId: 's-1', message: ' \n hello \t ' }));

      // Assess
      expect(response.json).toMatchObject({ message: { content: 'Echo: hello' } });
      expect(conversations.sessions.get('s-1')?.messages[0]?.message.content).toBe('hello');
    });

    it('It should never echo a rejected value', async () => {
      // Prepare
      const { chat, keys } = setup();
      const body = { sessionId: '<script>alert("sid")</script>', message: { payload: 'SENTINEL-VALUE' } };

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, body));

      // Assess
      expect(response.statusCode).toBe(400);
      expect(response.body).not.toContain('script');
      expect(response.body).not.toContain('SENTINEL-VALUE');
    });

    it('It should cut an unknown field name to 64 characters in details', async () => {
      // Prepare
      const { chat, keys } = setup();
      const name = `k${'x'.repeat(300)}`;

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, { sessionId: 's-1', message: 'hi', [name]: 1 }));

      // Assess
      expect(errorOf(response).details).toEqual([
        { path: `body.${name.slice(0, 64)}`, message: 'is not an allowed field' },
      ]);
    });

    it('It should return at most 20 details, each exactly {path, message}', async () => {
      // Prepare
      const { chat, keys } = setup();
      const body: Record<string, unknown> = { sessionId: 's-1', message: 'hi' };
      for (let i = 0; i < 50; i += 1) body[`extra${i}`] = i;

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, body));

      // Assess
      const details = errorOf(response).details as Record<string, unknown>[];
      expect(details).toHaveLength(20);
      for (const detail of details) {
        expect(Object.keys(detail).sort()).toEqual(['message', 'path']);
        expect(typeof detail.path).toBe('string');
        expect(typeof detail.message).toBe('string');
      }
    });
  });

  describe('query', () => {
    const admin = (keys: { admin: string }, query: Record<string, string | string[]>) => ({
      method: 'GET',
      path: '/v1/admin/audit',
      headers: { Authorization: `Bearer ${keys.admin}` },
      query,
    });

    it('It should accept a valid query', async () => {
      // Prepare
      const { audit, keys } = setup();

      // Act
      const response = await invoke(audit, admin(keys, { limit: '10', type: 'auth.failure' }));

      // Assess
      expect(response.statusCode).toBe(200);
    });

    it.each([
      ['a repeated parameter', { limit: ['1', '2'] }, [{ path: 'query.limit', message: 'must appear at most once' }]],
      [
        'a repeated unknown parameter',
        { foo: ['1', '2'] },
        [
          { path: 'query.foo', message: 'must appear at most once' },
          { path: 'query.foo', message: 'is not an allowed field' },
        ],
      ],
      ['an unknown parameter', { userId: 'u1' }, [{ path: 'query.userId', message: 'is not an allowed field' }]],
      ['limit=0', { limit: '0' }, [{ path: 'query.limit', message: 'must be a whole number from 1 to 100' }]],
      ['limit=101', { limit: '101' }, [{ path: 'query.limit', message: 'must be a whole number from 1 to 100' }]],
      ['limit=-1', { limit: '-1' }, [{ path: 'query.limit', message: 'must be a whole number from 1 to 100' }]],
      ['limit=1e2', { limit: '1e2' }, [{ path: 'query.limit', message: 'must be a whole number from 1 to 100' }]],
      ['limit=010', { limit: '010' }, [{ path: 'query.limit', message: 'must be a whole number from 1 to 100' }]],
      ['limit=abc', { limit: 'abc' }, [{ path: 'query.limit', message: 'must be a whole number from 1 to 100' }]],
      [
        'an unknown audit type',
        { type: 'everything' },
        [{ path: 'query.type', message: expect.stringMatching(/^must be one of auth.failure, /) as unknown }],
      ],
    ])('It should answer 400 VALIDATION_FAILED for %s', async (_label, query, details) => {
      // Prepare
      const { audit, keys } = setup();

      // Act
      const response = await invoke(audit, admin(keys, query));

      // Assess
      expect(response.statusCode).toBe(400);
      expect(errorOf(response)).toEqual({ code: 'VALIDATION_FAILED', message: 'The request is not valid.', details });
    });

    it('It should refuse a repeated query parameter even on a route without a query schema', async () => {
      // Prepare
      const { chat, keys } = setup();

      // Act
      const response = await invoke(chat, { ...chatRequest(keys.widget), query: { sessionId: ['a', 'b'] } });

      // Assess
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).details).toEqual([{ path: 'query.sessionId', message: 'must appear at most once' }]);
    });

    it('It should report body, query and path problems together', async () => {
      // Prepare
      const { getConversation, keys } = setup();

      // Act
      const response = await invoke(getConversation, {
        method: 'GET',
        path: '/v1/admin/conversations/a%20b',
        headers: { Authorization: `Bearer ${keys.admin}` },
        query: { limit: '0', x: ['1', '2'] },
      });

      // Assess
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).details).toEqual(
        expect.arrayContaining([
          { path: 'query.x', message: 'must appear at most once' },
          { path: 'query.limit', message: 'must be a whole number from 1 to 100' },
          { path: 'path.sessionId', message: SESSION_RULE },
        ]),
      );
    });
  });

  describe('path parameters', () => {
    it.each([
      ['a space', 'a%20b'],
      ['a decoded slash', 'a%2Fb'],
      ['129 characters', 'a'.repeat(129)],
      ['a non-ASCII letter', '%C3%A9'],
    ])('It should answer 400 VALIDATION_FAILED for a sessionId with %s', async (_label, raw) => {
      // Prepare
      const { getConversation, keys } = setup();

      // Act
      const response = await invoke(getConversation, {
        method: 'GET',
        path: `/v1/admin/conversations/${raw}`,
        headers: { Authorization: `Bearer ${keys.admin}` },
      });

      // Assess
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).details).toEqual([{ path: 'path.sessionId', message: SESSION_RULE }]);
    });
  });
});
