/**
 * Step 4 and step 8 of the chain over HTTP: what `POST /v1/chat` and the admin list queries
 * accept and refuse, with the exact error contract (`VALIDATION_FAILED` + `details`,
 * `INVALID_JSON`, 413, 415) and never an echo of what was sent.
 */
import { http, type HttpResponse } from '../helpers/http.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

/** Small enough to test the limit cheaply, large enough for 4000 emoji and 10 000 nesting levels. */
const MAX_BODY_BYTES = 24_576;
const NESTING = 10_000;

interface ErrorBody {
  error: { code: string; message: string; details?: Array<{ path: string; message: string }> };
}

describe('request validation over HTTP', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      // Validation is under test here, not rate limiting.
      RATE_LIMIT_MAX_REQUESTS: '1000000',
      RATE_LIMIT_SESSION_MAX: '1000000',
      ADMIN_RATE_LIMIT_MAX: '1000000',
      AUTH_FAILURE_LIMIT: '1000000',
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  /** POSTs raw bytes to /v1/chat with the widget key; `contentType` null sends no Content-Type. */
  const postChat = (body: string | Buffer, contentType: string | null = 'application/json') =>
    http(`${server.url}/v1/chat`, {
      method: 'POST',
      headers: {
        'X-Widget-Api-Key': server.secrets.widgetKey,
        ...(contentType === null ? {} : { 'Content-Type': contentType }),
      },
      body,
    });
  const chat = (body: unknown) => postChat(JSON.stringify(body));
  const adminGet = (pathAndQuery: string) =>
    http(`${server.url}${pathAndQuery}`, { headers: { Authorization: `Bearer ${server.secrets.adminKey}` } });

  /** Asserts the contract's error body: exactly `{error:{code,message[,details]}}`, details as `[{path,message}]`. */
  function expectError(res: HttpResponse, status: number, code: string): ErrorBody['error'] {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json as ErrorBody;
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
    const allowed = code === 'VALIDATION_FAILED' ? ['code', 'message', 'details'] : ['code', 'message'];
    expect(Object.keys(body.error).sort()).toEqual(allowed.sort());
    for (const detail of body.error.details ?? []) {
      expect(Object.keys(detail).sort()).toEqual(['message', 'path']);
      expect(typeof detail.path).toBe('string');
      expect(typeof detail.message).toBe('string');
    }
    return body.error;
  }

  /** Asserts a 400 VALIDATION_FAILED whose details name exactly `paths` (in any order; one path may hold several problems). */
  function expectInvalid(res: HttpResponse, paths: string[]): void {
    const error = expectError(res, 400, 'VALIDATION_FAILED');
    expect([...new Set(error.details?.map((d) => d.path))].sort()).toEqual([...paths].sort());
  }

  /** Asserts a successful chat turn and returns the assistant's reply. */
  function expectReply(res: HttpResponse, sessionId: string): string {
    expect(res.status).toBe(200);
    const body = res.json as { sessionId: string; message: { role: string; content: string; createdAt: string } };
    expect(body.sessionId).toBe(sessionId);
    expect(body.message.role).toBe('assistant');
    return body.message.content;
  }

  describe('sessionId', () => {
    it.each([
      ['128 characters', 'a'.repeat(128)],
      ['one character', 'x'],
      ['every allowed character class', 'Az09._:-'],
      ['dots only (not a path on its own)', '..'],
    ])('It should accept a sessionId of %s', async (_name, sessionId) => {
      // Act
      const res = await chat({ sessionId, message: 'hello' });

      // Assess
      expect(expectReply(res, sessionId)).toBe('Echo: hello');
    });

    it.each([
      ['129 characters', 'a'.repeat(129)],
      ['an empty string', ''],
      ['a space', 'has space'],
      ['a slash', 'a/b'],
      ['a path traversal', '../x'],
      ['a backslash', 'a\\b'],
      ['a trailing newline', 'abc\n'],
      ['a tab', 'a\tb'],
      ['Latin letters with accents', 'ünïcödé'],
      ['CJK characters', '会话'],
      ['an emoji', 'chat😀'],
      ['a percent escape', 'a%2Fb'],
      ['markup', '<script>'],
      ['a NUL', 'a\u0000b'],
    ])('It should refuse a sessionId with %s', async (_name, sessionId) => {
      // Act
      const res = await chat({ sessionId, message: 'hello' });

      // Assess
      expectInvalid(res, ['body.sessionId']);
    });

    it.each([
      ['a number', 42],
      ['a boolean', true],
      ['null', null],
      ['an array', ['s1']],
      ['an object', { id: 's1' }],
    ])('It should refuse a sessionId that is %s', async (_name, sessionId) => {
      // Act
      const res = await chat({ sessionId, message: 'hello' });

      // Assess
      expectInvalid(res, ['body.sessionId']);
    });
  });

  describe('message', () => {
    it.each([
      ['4000 characters', 'a'.repeat(4000), 'a'.repeat(4000)],
      ['4000 characters once surrounding spaces are trimmed', `   ${'b'.repeat(4000)}  \n`, 'b'.repeat(4000)],
      ['4000 emoji (one character each)', '😀'.repeat(4000), '😀'.repeat(4000)],
      ['surrounding tabs and newlines', '\n\t hello there \r\n', 'hello there'],
      ['inner whitespace kept as sent', 'a  b\nc', 'a  b\nc'],
      ['one character', 'x', 'x'],
    ])('It should accept a message of %s and store it trimmed', async (_name, message, stored) => {
      // Act
      const res = await chat({ sessionId: 'msg-ok', message });

      // Assess: the echo model answers with the message as stored
      expect(expectReply(res, 'msg-ok')).toBe(`Echo: ${stored}`);
    });

    it.each([
      ['4001 characters', 'a'.repeat(4001)],
      ['4001 emoji', '😀'.repeat(4001)],
      ['4001 characters between spaces', ` ${'a'.repeat(4001)} `],
      ['an empty string', ''],
      ['spaces only', '     '],
      ['tabs and newlines only', '\n\t\r\n '],
      ['Unicode spaces only', '\u00a0\u2003\u3000'],
      ['a NUL character', 'a\u0000b'],
    ])('It should refuse a message of %s', async (_name, message) => {
      // Act
      const res = await chat({ sessionId: 'msg-bad', message });

      // Assess
      expectInvalid(res, ['body.message']);
    });

    it.each([
      ['a number', 42],
      ['a boolean', false],
      ['null', null],
      ['an array', ['hello']],
      ['an object', { text: 'hello' }],
    ])('It should refuse a message that is %s', async (_name, message) => {
      // Act
      const res = await chat({ sessionId: 'msg-type', message });

      // Assess
      expectInvalid(res, ['body.message']);
    });
  });

  describe('body shape', () => {
    it.each([
      ['an empty object', {}, ['body.sessionId', 'body.message']],
      ['no message', { sessionId: 's1' }, ['body.message']],
      ['no sessionId', { message: 'hello' }, ['body.sessionId']],
    ])('It should refuse %s, naming every missing field', async (_name, body, paths) => {
      // Act
      const res = await chat(body);

      // Assess
      expectInvalid(res, paths);
    });

    it.each(['extra', 'userId', 'role', 'metadata', 'sessionid', 'Message', 'isAdmin'])(
      'It should refuse the unknown field %j with path body.<field>',
      async (field) => {
        // Act
        const res = await chat({ sessionId: 'unknown-field', message: 'hello', [field]: 'x' });

        // Assess
        expectInvalid(res, [`body.${field}`]);
      },
    );

    it.each([
      ['an array', '[]'],
      ['an array holding a valid body', '[{"sessionId":"s1","message":"hello"}]'],
      ['a string', '"hello"'],
      ['a number', '42'],
      ['a boolean', 'true'],
      ['null', 'null'],
    ])('It should refuse a top-level %s as VALIDATION_FAILED at path body', async (_name, text) => {
      // Act
      const res = await postChat(text);

      // Assess
      expectInvalid(res, ['body']);
    });

    it.each([
      ['an empty body', ''],
      ['an unterminated object', '{'],
      ['a trailing comma', '{"sessionId":"s1","message":"hello",}'],
      ['single quotes', "{'sessionId':'s1','message':'hello'}"],
      ['a missing comma', '{"sessionId":"s1" "message":"hello"}'],
      ['garbage after the object', '{"sessionId":"s1","message":"hello"}x'],
      ['JavaScript, not JSON', '{sessionId: "s1", message: "hello"}'],
      ['NaN', 'NaN'],
      ['undefined', 'undefined'],
      ['a comment', '{"sessionId":"s1","message":"hello"} // hi'],
      ['10 000 unclosed brackets', '['.repeat(NESTING)],
      ['a lone invalid byte', Buffer.from([0xff])],
      // docs/api.md: 400 INVALID_JSON when the body "is not valid UTF-8 JSON"
      [
        'invalid UTF-8 inside a string',
        Buffer.concat([Buffer.from('{"sessionId":"utf8","message":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
      ],
      [
        'an overlong UTF-8 encoding of "/"',
        Buffer.concat([Buffer.from('{"sessionId":"utf8","message":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
      ],
    ])('It should refuse %s as 400 INVALID_JSON', async (_name, body) => {
      // Act
      const res = await postChat(body);

      // Assess
      expectError(res, 400, 'INVALID_JSON');
    });

    it.each([
      [
        'a message nested 10 000 arrays deep',
        `{"sessionId":"deep","message":${'['.repeat(NESTING)}${']'.repeat(NESTING)}}`,
        ['body.message'],
      ],
      ['a top-level array nested 10 000 deep', `${'['.repeat(NESTING)}${']'.repeat(NESTING)}`, ['body']],
      [
        'an unknown field nested 4000 objects deep',
        `{"sessionId":"deep","message":"hello","x":${'{"a":'.repeat(4000)}1${'}'.repeat(4000)}}`,
        ['body.x'],
      ],
    ])('It should refuse %s with 400, not a 500', async (_name, text, paths) => {
      // Prepare
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_BODY_BYTES);

      // Act
      const res = await postChat(text);

      // Assess
      expectInvalid(res, paths);
    });

    it.each([
      [
        '__proto__ beside valid fields',
        '{"sessionId":"proto","message":"hello","__proto__":{"isAdmin":true}}',
        ['body.__proto__'],
      ],
      [
        'constructor beside valid fields',
        '{"sessionId":"proto","message":"hello","constructor":{"prototype":{"x":1}}}',
        ['body.constructor'],
      ],
      ['prototype beside valid fields', '{"sessionId":"proto","message":"hello","prototype":{}}', ['body.prototype']],
      [
        '__proto__ carrying the fields',
        '{"__proto__":{"sessionId":"proto","message":"hello"}}',
        ['body.__proto__', 'body.sessionId', 'body.message'],
      ],
    ])('It should refuse %s (prototype keys are plain unknown fields)', async (_name, text, paths) => {
      // Act
      const res = await postChat(text);

      // Assess
      expectInvalid(res, paths);
    });

    it.each([
      ['the last message wins', '{"sessionId":"dup-1","message":"first","message":"second"}', 200, 'Echo: second'],
      ['the last sessionId wins', '{"sessionId":"bad id","sessionId":"dup-2","message":"hello"}', 200, 'Echo: hello'],
      ['a bad last message is refused', '{"sessionId":"dup-3","message":"hello","message":42}', 400, undefined],
      [
        'a bad last sessionId is refused',
        '{"sessionId":"dup-4","sessionId":"bad id","message":"hello"}',
        400,
        undefined,
      ],
    ])('It should read duplicate keys consistently: %s', async (_name, text, status, reply) => {
      // Act
      const res = await postChat(text);

      // Assess: the value validated is the value used (no parser differential)
      expect(res.status).toBe(status);
      if (reply === undefined) expectError(res, 400, 'VALIDATION_FAILED');
      else expect((res.json as { message: { content: string } }).message.content).toBe(reply);
    });

    it('It should never echo a submitted value in an error body nor in the logs', async () => {
      // Prepare
      const marker = `zqMARKER${Date.now()}x`;
      const bodies = [
        JSON.stringify({ sessionId: `${marker} /`, message: 'hello' }),
        JSON.stringify({ sessionId: 'echo', message: marker.repeat(400) }),
        JSON.stringify({ sessionId: 'echo', message: 'hello', extra: marker }),
        JSON.stringify({ sessionId: 'echo', message: { [marker]: marker } }),
        JSON.stringify([marker]),
        `{"sessionId":"${marker}`,
        `{"sessionId":"echo","message":"${marker}" oops}`,
      ];

      // Act
      const responses = await Promise.all(bodies.map((body) => postChat(body)));

      // Assess
      for (const res of responses) {
        expect(res.status).toBe(400);
        expect(res.text).not.toContain(marker);
      }
      expect(server.output()).not.toContain(marker);
    });

    it('It should not log the message text of an accepted chat turn', async () => {
      // Prepare
      const marker = `zqLOGGED${Date.now()}x`;

      // Act
      const res = await chat({ sessionId: 'log-check', message: marker });

      // Assess
      expect(expectReply(res, 'log-check')).toBe(`Echo: ${marker}`);
      expect(server.output()).not.toContain(marker);
    });

    it('It should apply the same validation on the /chat alias', async () => {
      // Act
      const res = await http(`${server.url}/chat`, {
        method: 'POST',
        headers: { 'X-Widget-Api-Key': server.secrets.widgetKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({ sessionId: 'alias', message: '   ', extra: 1 }),
      });

      // Assess
      expectInvalid(res, ['body.message', 'body.extra']);
    });
  });

  describe('Content-Type', () => {
    it.each([
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'application/json; charset="utf-8"',
      'APPLICATION/JSON',
      'Application/Json; Charset=UTF-8',
    ])('It should accept %j', async (contentType) => {
      // Act
      const res = await postChat(JSON.stringify({ sessionId: 'ctype', message: 'hello' }), contentType);

      // Assess
      expect(expectReply(res, 'ctype')).toBe('Echo: hello');
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['no Content-Type', null],
      ['a latin1 charset', 'application/json; charset=latin1'],
      ['a utf-16 charset', 'application/json; charset=utf-16'],
      ['a form', 'application/x-www-form-urlencoded'],
      ['multipart', 'multipart/form-data; boundary=x'],
      ['text/json', 'text/json'],
      ['a +json suffix type', 'application/merge-patch+json'],
      ['a lookalike prefix', 'application/jsonx'],
      ['an extra parameter', 'application/json; charset=utf-8; boundary=x'],
      ['an empty value', ''],
    ])('It should refuse %s with 415 UNSUPPORTED_MEDIA_TYPE', async (_name, contentType) => {
      // Act
      const res = await postChat(JSON.stringify({ sessionId: 'ctype', message: 'hello' }), contentType);

      // Assess
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('body size', () => {
    /** A valid chat body padded with JSON whitespace to exactly `bytes` bytes. */
    const paddedBody = (bytes: number) => {
      const json = JSON.stringify({ sessionId: 'size', message: 'hello' });
      return json + ' '.repeat(bytes - json.length);
    };

    it('It should accept a body of exactly MAX_BODY_BYTES', async () => {
      // Prepare
      const body = paddedBody(MAX_BODY_BYTES);
      expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);

      // Act
      const res = await postChat(body);

      // Assess
      expect(expectReply(res, 'size')).toBe('Echo: hello');
    });

    it.each([
      ['MAX_BODY_BYTES + 1', MAX_BODY_BYTES + 1],
      ['ten times MAX_BODY_BYTES', MAX_BODY_BYTES * 10],
    ])('It should refuse a body of %s with 413 PAYLOAD_TOO_LARGE', async (_name, bytes) => {
      // Act
      const res = await postChat(paddedBody(bytes));

      // Assess
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('It should count bytes, not characters', async () => {
      // Prepare: fewer characters than the limit, more bytes
      const message = 'é'.repeat(MAX_BODY_BYTES / 2);
      const body = JSON.stringify({ sessionId: 'size', message });
      expect(body.length).toBeLessThan(MAX_BODY_BYTES);
      expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_BODY_BYTES);

      // Act
      const res = await postChat(body);

      // Assess
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    });
  });

  describe('admin list queries', () => {
    const LISTS = ['/v1/admin/conversations', '/v1/admin/audit'];

    it.each(LISTS.flatMap((path) => ['limit=1', 'limit=100', 'limit=50'].map((query) => [path, query])))(
      'It should accept %s?%s',
      async (path, query) => {
        // Act
        const res = await adminGet(`${path}?${query}`);

        // Assess
        expect(res.status).toBe(200);
        expect(Object.keys(res.json as object).sort()).toEqual(['items', 'nextCursor']);
      },
    );

    const commonBad: Array<[string, string]> = [
      ['limit=0', 'query.limit'],
      ['limit=101', 'query.limit'],
      ['limit=-1', 'query.limit'],
      ['limit=1.5', 'query.limit'],
      ['limit=abc', 'query.limit'],
      ['limit=', 'query.limit'],
      ['limit=01', 'query.limit'],
      ['limit=1e2', 'query.limit'],
      ['limit=0x10', 'query.limit'],
      ['limit=%205', 'query.limit'],
      ['limit=99999999999999999999', 'query.limit'],
      ['limit=5&limit=6', 'query.limit'],
      ['limit=5&limit=5', 'query.limit'],
      ['foo=1', 'query.foo'],
      ['Limit=5', 'query.Limit'],
      ['cursor=', 'query.cursor'],
      ['cursor=a&cursor=b', 'query.cursor'],
    ];
    const specificBad: Array<[string, string, string]> = [
      ['/v1/admin/conversations', 'type=admin.access', 'query.type'],
      ['/v1/admin/conversations', 'userId=', 'query.userId'],
      ['/v1/admin/conversations', 'userId=a%20b', 'query.userId'],
      ['/v1/admin/conversations', `userId=${'u'.repeat(129)}`, 'query.userId'],
      ['/v1/admin/audit', 'type=nope', 'query.type'],
      ['/v1/admin/audit', 'type=', 'query.type'],
      ['/v1/admin/audit', 'type=ADMIN.ACCESS', 'query.type'],
      ['/v1/admin/audit', 'userId=u1', 'query.userId'],
      ['/v1/admin/conversations/some-session', 'limit=0', 'query.limit'],
      ['/v1/admin/conversations/some-session', 'limit=101', 'query.limit'],
      ['/v1/admin/conversations/some-session', 'limit=1&limit=2', 'query.limit'],
      ['/v1/admin/conversations/some-session', 'userId=u1', 'query.userId'],
    ];

    it.each([...LISTS.flatMap((path) => commonBad.map(([query, at]) => [path, query, at])), ...specificBad])(
      'It should refuse %s?%s with 400 at %s',
      async (path, query, at) => {
        // Act
        const res = await adminGet(`${path}?${query}`);

        // Assess
        expectInvalid(res, [at]);
      },
    );
  });
});
