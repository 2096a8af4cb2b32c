/**
 * Nothing leaks (design §3, §6): error paths driven as an attacker would never answer with a stack
 * trace, an internal name, a secret or an echo of what was sent, and the server's own log never
 * holds a secret, a credential, a message or a reply. The server is still healthy afterwards.
 */
import { randomUUID } from 'node:crypto';
import { http, postJson, type HttpResponse } from '../helpers/http.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

const ALLOWED_ORIGIN = 'https://app.example.com';

/** What must never appear in a response body: stack frames, source paths, runtime and library names. */
const LEAK_PATTERNS: readonly RegExp[] = [
  /\bat\s+\S+\s+\(/, // a stack frame: "at fn (file:line:col)"
  /\bat\s+(?:file:\/\/|node:|\/)/, // a stack frame without a function name
  /\.(?:ts|js|mjs|cjs):\d+/, // file:line
  /\.ts\b/,
  /node_modules/,
  /node:internal/,
  /file:\/\//,
  /\/work\/|\/tmp\/|\/home\//,
  /Error:/,
  /\b(?:Type|Syntax|Range|Reference|App|Validation|Configuration|Zod|Unauthorized|OriginNotAllowed)Error\b/,
  /middy|zod|dynamo|powertools|aws-sdk|@aws|lambda|jose|tsx/i,
  /ConditionalCheck|ResourceNotFound|ProvisionedThroughput/,
  /chat-widget-(?:conversations|security)|SESSION#|AUDIT#|\bPK\b|\bSK\b/,
  /Unexpected token|JSON at position|Unexpected end of JSON|Unterminated string/,
  /undefined|\[object Object\]|NaN/,
];

/** The log lines that contain `value` (an empty list is what the tests want). */
const linesContaining = (output: string, value: string): string[] =>
  output.split('\n').filter((line) => line.includes(value));

/** JSON text nested `depth` levels deep around `inner`. */
const nested = (depth: number, open: string, close: string, inner: string): string =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

describe('no leaks', () => {
  let server: RunningServer;
  const secretValues = () => Object.values(server.secrets) as string[];
  const widget = () => ({ 'X-Widget-Api-Key': server.secrets.widgetKey });
  const admin = () => ({ Authorization: `Bearer ${server.secrets.adminKey}` });
  const chatUrl = () => `${server.url}/v1/chat`;

  /** Waits until every log line written before now has been read: the server logs this request last. */
  const flushLogs = async (): Promise<void> => {
    const id = `flush-${randomUUID()}`;
    await http(`${server.url}/health`, { headers: { 'X-Request-Id': id } });
    await server.waitForOutput(new RegExp(`"requestId":"${id}"`), 10_000);
  };

  beforeAll(async () => {
    // Generous rate limits, so that a later rate-limit tier does not change which paths are driven.
    server = await startServer({
      CORS_ORIGIN: ALLOWED_ORIGIN,
      RATE_LIMIT_MAX_REQUESTS: '100000',
      AUTH_FAILURE_LIMIT: '100000',
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  describe('response bodies', () => {
    const probe = `probe-${randomUUID()}`;
    const attacks: readonly { kind: string; send: () => Promise<HttpResponse> }[] = [
      { kind: 'truncated JSON', send: () => postJson(chatUrl(), '{"sessionId":', widget()) },
      { kind: 'JSON with trailing garbage', send: () => postJson(chatUrl(), `{"sessionId":"a"}${probe}`, widget()) },
      { kind: 'a JSON string with a probe', send: () => postJson(chatUrl(), `"${probe}`, widget()) },
      {
        kind: 'invalid UTF-8',
        send: () =>
          http(chatUrl(), {
            method: 'POST',
            headers: { ...widget(), 'Content-Type': 'application/json' },
            body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
          }),
      },
      { kind: 'JSON null', send: () => postJson(chatUrl(), 'null', widget()) },
      { kind: 'a JSON number', send: () => postJson(chatUrl(), '1e999', widget()) },
      {
        kind: 'a huge message',
        send: () => postJson(chatUrl(), { sessionId: 's', message: `${probe} ${'x'.repeat(60_000)}` }, widget()),
      },
      {
        kind: 'a huge session id',
        send: () => postJson(chatUrl(), { sessionId: `${probe}${'A'.repeat(50_000)}`, message: 'hi' }, widget()),
      },
      {
        kind: 'wrong types everywhere',
        send: () => postJson(chatUrl(), { sessionId: { $ne: probe }, message: [probe], extra: probe }, widget()),
      },
      {
        kind: 'arrays nested 10000 deep',
        send: () => postJson(chatUrl(), nested(10_000, '[', ']', `"${probe}"`), widget()),
      },
      {
        kind: 'objects nested 10000 deep',
        send: () => postJson(chatUrl(), nested(10_000, '{"a":', '}', `"${probe}"`), widget()),
      },
      {
        kind: 'a __proto__ key',
        send: () =>
          postJson(chatUrl(), `{"sessionId":"s","message":"hi","__proto__":{"isAdmin":true,"x":"${probe}"}}`, widget()),
      },
      {
        kind: 'a constructor.prototype key',
        send: () =>
          postJson(
            chatUrl(),
            `{"sessionId":"s","message":"hi","constructor":{"prototype":{"x":"${probe}"}}}`,
            widget(),
          ),
      },
      {
        kind: 'a __proto__ inside a field',
        send: () => postJson(chatUrl(), `{"sessionId":{"__proto__":{"toString":"${probe}"}},"message":"hi"}`, widget()),
      },
      {
        kind: 'form encoding',
        send: () =>
          http(chatUrl(), {
            method: 'POST',
            headers: { ...widget(), 'Content-Type': 'application/x-www-form-urlencoded' },
            body: `sessionId=${probe}`,
          }),
      },
      {
        kind: 'a UTF-16 charset',
        send: () =>
          http(chatUrl(), {
            method: 'POST',
            headers: { ...widget(), 'Content-Type': 'application/json; charset=utf-16' },
            body: '{}',
          }),
      },
      {
        kind: 'a body over MAX_BODY_BYTES',
        send: () => postJson(chatUrl(), `"${probe}${'x'.repeat(70_000)}"`, widget()),
      },
      {
        kind: 'a wrong widget key',
        send: () => postJson(chatUrl(), { sessionId: 's', message: 'hi' }, { 'X-Widget-Api-Key': probe }),
      },
      {
        kind: 'an 8000-character widget key',
        send: () => postJson(chatUrl(), { sessionId: 's', message: 'hi' }, { 'X-Widget-Api-Key': probe.repeat(200) }),
      },
      {
        kind: 'a JWT-shaped Bearer token on the chat route',
        send: () =>
          postJson(
            chatUrl(),
            { sessionId: 's', message: 'hi' },
            { ...widget(), Authorization: `Bearer eyJhbGciOiJub25lIn0.${probe}.` },
          ),
      },
      {
        kind: 'a wrong admin key',
        send: () => http(`${server.url}/v1/admin/conversations`, { headers: { Authorization: `Bearer ${probe}` } }),
      },
      {
        kind: 'a disallowed origin',
        send: () => http(`${server.url}/health`, { headers: { Origin: `https://${probe}.evil.com` } }),
      },
      { kind: 'an unknown route', send: () => http(`${server.url}/v1/${probe}`) },
      { kind: 'a dotfile', send: () => http(`${server.url}/.env`) },
      { kind: 'a path traversal', send: () => http(server.url, { target: '/v1/../../etc/passwd' }) },
      { kind: 'an encoded path traversal', send: () => http(server.url, { target: '/%2e%2e/%2e%2e/etc/passwd' }) },
      { kind: 'a sub-path of the chat route', send: () => http(`${server.url}/v1/chat/${probe}`) },
      { kind: 'bad percent-encoding', send: () => http(server.url, { target: '/%zz%' }) },
      {
        kind: 'bad percent-encoding in a path parameter',
        send: () => http(server.url, { target: '/v1/admin/conversations/%E0%A4%A', headers: admin() }),
      },
      {
        kind: 'an encoded NUL in a path parameter',
        send: () => http(server.url, { target: '/v1/admin/conversations/%00', headers: admin() }),
      },
      {
        kind: 'an encoded traversal in a path parameter',
        send: () => http(server.url, { target: '/v1/admin/conversations/..%2F..%2Fetc%2Fpasswd', headers: admin() }),
      },
      { kind: 'PROPFIND', send: () => http(chatUrl(), { method: 'PROPFIND', headers: widget() }) },
      { kind: 'PROPFIND on an unknown path', send: () => http(`${server.url}/webdav`, { method: 'PROPFIND' }) },
      {
        kind: 'TRACE with a probe header',
        send: () => http(chatUrl(), { method: 'TRACE', headers: { ...widget(), 'X-Probe': probe } }),
      },
      { kind: 'PUT', send: () => http(chatUrl(), { method: 'PUT', headers: widget(), body: '{}' }) },
      { kind: 'an unknown method', send: () => http(server.url, { method: 'FOO', target: '/v1/chat' }) },
      { kind: 'a request-target the URL parser rejects', send: () => http(server.url, { target: 'http://[' }) },
      {
        kind: 'a tampered cursor',
        send: () => http(`${server.url}/v1/admin/conversations?cursor=${probe}AAAA`, { headers: admin() }),
      },
      {
        kind: 'an overlong cursor',
        send: () => http(`${server.url}/v1/admin/audit?cursor=${'A'.repeat(5000)}`, { headers: admin() }),
      },
      {
        kind: 'a repeated query parameter',
        send: () => http(`${server.url}/v1/admin/audit?limit=1&limit=2`, { headers: admin() }),
      },
      { kind: 'a bad limit', send: () => http(`${server.url}/v1/admin/audit?limit=-1e9`, { headers: admin() }) },
      {
        kind: 'an unknown audit type',
        send: () => http(`${server.url}/v1/admin/audit?type=${probe}`, { headers: admin() }),
      },
      {
        kind: 'an unknown query parameter',
        send: () => http(`${server.url}/v1/admin/audit?__proto__=${probe}`, { headers: admin() }),
      },
    ];

    it.each(attacks)('It should answer $kind without a stack trace, an internal name or an echo', async ({ send }) => {
      // Act
      const response = await send();

      // Assess
      for (const pattern of LEAK_PATTERNS) {
        expect({ pattern: String(pattern), leaked: pattern.test(response.text) }).toEqual({
          pattern: String(pattern),
          leaked: false,
        });
      }
      expect(response.text).not.toContain(probe);
      const everything = `${response.text}\n${JSON.stringify(response.headers)}`;
      for (const secret of secretValues()) expect(everything).not.toContain(secret);
      expect(response.headers['x-powered-by']).toBeUndefined();
      // Either no body at all (the HTTP parser's own refusals) or exactly the contract error body.
      if (response.text !== '') {
        const error = (response.json as { error?: { code?: unknown } } | undefined)?.error;
        expect(error?.code).toEqual(expect.stringMatching(/^[A-Z_]+$/));
      }
    });

    it('It should still be healthy and serve a chat turn afterwards', async () => {
      // Act
      const health = await http(`${server.url}/health`);
      const chat = await postJson(chatUrl(), { sessionId: 'after-attacks', message: 'still there?' }, widget());

      // Assess
      expect(health.status).toBe(200);
      expect(health.json).toEqual({ status: 'ok' });
      expect(chat.status).toBe(200);
      expect(chat.json).toMatchObject({ sessionId: 'after-attacks', message: { role: 'assistant' } });
    });
  });

  describe('server log', () => {
    it('It should never log a secret, a credential, a message, a reply or a query string', async () => {
      // Prepare
      const marker = `private-note-${randomUUID()}`;
      const wrongWidgetKey = `wrong-widget-${randomUUID()}`;
      const wrongAdminToken = `wrong-admin-${randomUUID()}`;
      const jwtLike = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(randomUUID()).toString('base64url')}.c2ln`;
      const queryMarker = `query-${randomUUID()}`;

      // Act
      const chat = await postJson(
        chatUrl(),
        { sessionId: 'log-probe', message: `Please remember ${marker}` },
        { ...widget(), Origin: ALLOWED_ORIGIN },
      );
      const second = await postJson(
        `${server.url}/chat`,
        { sessionId: 'log-probe', message: `And ${marker} again` },
        widget(),
      );
      const refused = [
        await postJson(chatUrl(), { sessionId: 'log-probe', message: marker }, { 'X-Widget-Api-Key': wrongWidgetKey }),
        await postJson(
          chatUrl(),
          { sessionId: 'log-probe', message: marker },
          { ...widget(), Authorization: `Bearer ${jwtLike}` },
        ),
        await postJson(chatUrl(), `{"sessionId":"log-probe","message":"${marker}"`, widget()),
        await postJson(chatUrl(), { sessionId: 'log-probe', message: `${marker} ${'x'.repeat(4001)}` }, widget()),
        await postJson(chatUrl(), { sessionId: 'log-probe', message: `${marker}${'x'.repeat(70_000)}` }, widget()),
        await http(chatUrl(), {
          method: 'POST',
          headers: { ...widget(), 'Content-Type': 'text/plain' },
          body: marker,
        }),
        await http(`${server.url}/v1/admin/conversations`, { headers: { Authorization: `Bearer ${wrongAdminToken}` } }),
        await http(`${server.url}/v1/admin/conversations?cursor=${queryMarker}`, { headers: admin() }),
        await http(`${server.url}/health?${queryMarker}=${queryMarker}`),
      ];
      const conversation = await http(`${server.url}/v1/admin/conversations/log-probe`, { headers: admin() });
      await flushLogs();
      const output = server.output();

      // Assess
      expect(chat.status).toBe(200);
      expect(second.status).toBe(200);
      expect(refused.map((r) => r.status)).toEqual([401, 401, 400, 400, 413, 415, 401, 400, 200]);
      expect(conversation.status).toBe(200);
      const reply = (chat.json as { message: { content: string } }).message.content;
      expect(reply).toContain(marker);
      const forbidden = [
        ...secretValues(),
        marker,
        reply,
        wrongWidgetKey,
        wrongAdminToken,
        jwtLike,
        queryMarker,
        `Bearer ${server.secrets.adminKey}`,
      ];
      for (const value of forbidden)
        expect({ value, lines: linesContaining(output, value) }).toEqual({ value, lines: [] });
      // The log is really being read: the access lines of these requests are there.
      expect(output).toContain('"route":"/v1/chat"');
      expect(output).toContain('"route":"/v1/admin/conversations/{sessionId}"');
    });

    it('It should keep the path of an unmatched request out of the logs, as docs/security.md promises', async () => {
      // Prepare: a credential pasted into a URL by mistake (a bad base-URL template).
      const pasted = `pasted-credential-${randomUUID()}`;

      // Act
      const notFound = await http(`${server.url}/v1/${pasted}`);
      const rejected = await http(`${server.url}/v1/chat/${pasted}`, {
        headers: { Origin: 'https://evil.example.net' },
      });
      await flushLogs();

      // Assess
      expect(notFound.status).toBe(404);
      // An unmatched path gets no CORS verdict at all (issue 16): a foreign Origin changes nothing.
      expect(rejected.status).toBe(404);
      expect(rejected.headers['access-control-allow-origin']).toBeUndefined();
      expect(linesContaining(server.output(), pasted)).toEqual([]);
    });
  });
});
