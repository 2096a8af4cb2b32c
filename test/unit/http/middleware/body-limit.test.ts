import { build as buildChat } from '../../../../lambdas/handlers/post-chat.js';
import { build as buildHealth } from '../../../../lambdas/handlers/health.js';
import { bodyLimit } from '../../../../lambdas/http/middleware/body-limit.js';
import { chatRequest, errorOf, fakeRuntime, invoke, type EventInput } from '../../../helpers/fake-runtime.js';

const MAX = 1024;

function setup() {
  const fake = fakeRuntime({ env: { MAX_BODY_BYTES: String(MAX) } });
  return { ...fake, chat: buildChat(fake.runtime), health: buildHealth(fake.runtime) };
}

/** A valid chat body of exactly `bytes` UTF-8 bytes, padded with `filler`. */
function chatBodyOfBytes(bytes: number, filler = 'x'): string {
  const empty = JSON.stringify({ sessionId: 's-1', message: '' });
  const fillerBytes = Buffer.byteLength(filler);
  const room = bytes - Buffer.byteLength(empty);
  if (room % fillerBytes !== 0) throw new Error('filler does not fit exactly');
  return JSON.stringify({ sessionId: 's-1', message: filler.repeat(room / fillerBytes) });
}

describe('body-limit middleware', () => {
  it('It should refuse to be created with a limit that is not a positive integer', () => {
    // Act and assess
    for (const maxBytes of [0, -1, 1.5, Number.NaN]) {
      expect(() => bodyLimit({ maxBytes, json: true })).toThrow(TypeError);
    }
  });

  describe('size', () => {
    it('It should accept a body of exactly MAX_BODY_BYTES', async () => {
      // Prepare
      const { chat, keys } = setup();
      const body = chatBodyOfBytes(MAX);

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, body));

      // Assess
      expect(Buffer.byteLength(body)).toBe(MAX);
      expect(response.statusCode).toBe(200);
    });

    it.each([
      ['one byte over the limit', () => ({ body: chatBodyOfBytes(MAX + 1) })],
      [
        'under the limit in characters but over it in UTF-8 bytes',
        () => ({ body: chatBodyOfBytes(MAX + 8, '\u00e9') }),
      ],
      ['far over the limit', () => ({ body: 'x'.repeat(100 * MAX) })],
      [
        'base64-encoded and over the limit once decoded',
        () => ({ body: Buffer.from(chatBodyOfBytes(MAX + 1)).toString('base64'), isBase64Encoded: true }),
      ],
    ])('It should answer 413 PAYLOAD_TOO_LARGE for a body %s', async (_label, make) => {
      // Prepare
      const { chat, keys } = setup();
      const { body, isBase64Encoded } = make() as { body: string; isBase64Encoded?: boolean };

      // Act
      const response = await invoke(chat, { ...chatRequest(keys.widget, body), isBase64Encoded });

      // Assess
      expect(response.statusCode).toBe(413);
      expect(errorOf(response)).toEqual({
        code: 'PAYLOAD_TOO_LARGE',
        message: `The request body is larger than ${MAX} bytes.`,
      });
    });

    it('It should count the decoded bytes of a base64 body, not its encoded length', async () => {
      // Prepare
      const { chat, keys } = setup();
      const encoded = Buffer.from(chatBodyOfBytes(MAX)).toString('base64');

      // Act
      const response = await invoke(chat, { ...chatRequest(keys.widget, encoded), isBase64Encoded: true });

      // Assess
      expect(encoded.length).toBeGreaterThan(MAX);
      expect(response.statusCode).toBe(200);
    });

    it('It should refuse an oversize body before authentication', async () => {
      // Prepare
      const { chat, auditStore } = setup();

      // Act
      const response = await invoke(chat, {
        method: 'POST',
        path: '/v1/chat',
        headers: { 'Content-Type': 'application/json' },
        body: chatBodyOfBytes(MAX + 1),
      });

      // Assess
      expect(response.statusCode).toBe(413);
      expect(auditStore.ofType('auth.failure')).toEqual([]);
    });

    it('It should hold routes without a body schema to the same limit', async () => {
      // Prepare
      const { health } = setup();

      // Act
      const small = await invoke(health, { method: 'GET', path: '/health', body: 'x'.repeat(MAX) });
      const large = await invoke(health, { method: 'GET', path: '/health', body: 'x'.repeat(MAX + 1) });

      // Assess
      expect(small.statusCode).toBe(200);
      expect(large.statusCode).toBe(413);
    });
  });

  describe('content type', () => {
    it.each([
      'application/json',
      'APPLICATION/JSON',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'application/json; charset="utf-8"',
      ' application/json ',
    ])('It should accept Content-Type %j', async (contentType) => {
      // Prepare
      const { chat, keys } = setup();

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, undefined, { 'Content-Type': contentType }));

      // Assess
      expect(response.statusCode).toBe(200);
    });

    it.each([
      'text/plain',
      'text/plain; charset=utf-8',
      'text/json',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/jsonx',
      'application/json-patch+json',
      'application/vnd.api+json',
      'application/json, text/plain',
      'application/json; charset=utf-8; boundary=x',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=abc',
      'json',
      '',
    ])('It should answer 415 UNSUPPORTED_MEDIA_TYPE for Content-Type %j', async (contentType) => {
      // Prepare
      const { chat, keys } = setup();

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, undefined, { 'Content-Type': contentType }));

      // Assess
      expect(response.statusCode).toBe(415);
      expect(errorOf(response)).toEqual({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'The request body must be application/json.',
      });
    });

    it('It should answer 415 when the Content-Type header is missing', async () => {
      // Prepare
      const { chat, keys } = setup();
      const request: EventInput = {
        method: 'POST',
        path: '/v1/chat',
        headers: { 'X-Widget-Api-Key': keys.widget },
        body: JSON.stringify({ sessionId: 's-1', message: 'hi' }),
      };

      // Act
      const response = await invoke(chat, request);

      // Assess
      expect(response.statusCode).toBe(415);
    });
  });

  describe('JSON', () => {
    it.each([
      ['a malformed object', '{'],
      ['single quotes', "{'sessionId':'s-1','message':'hi'}"],
      ['trailing garbage', '{"sessionId":"s-1","message":"hi"}x'],
      ['two documents', '{}{}'],
      ['a trailing comma', '{"sessionId":"s-1","message":"hi",}'],
      ['an empty body', ''],
      ['only whitespace', '   '],
      ['NaN', 'NaN'],
    ])('It should answer 400 INVALID_JSON for %s', async (_label, body) => {
      // Prepare
      const { chat, keys } = setup();

      // Act
      const response = await invoke(chat, chatRequest(keys.widget, body));

      // Assess
      expect(response.statusCode).toBe(400);
      expect(errorOf(response)).toEqual({ code: 'INVALID_JSON', message: 'The request body is not valid JSON.' });
    });

    it('It should answer 400 INVALID_JSON for a missing (null) body', async () => {
      // Prepare
      const { chat, keys } = setup();

      // Act
      const response = await invoke(chat, { ...chatRequest(keys.widget), body: null });

      // Assess
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('INVALID_JSON');
    });

    it.each([
      ['a truncated two-byte sequence', [0xc3, 0x28]],
      ['an overlong encoding of "/"', [0xc0, 0xaf]],
      ['an encoded UTF-16 surrogate', [0xed, 0xa0, 0x80]],
      ['a stray continuation byte', [0x80]],
      ['a byte that never appears in UTF-8', [0xff]],
    ])('It should answer 400 INVALID_JSON for a base64 body with %s', async (_label, bad) => {
      // Prepare
      const { chat, keys } = setup();
      const bytes = Buffer.concat([Buffer.from('{"sessionId":"s-1","message":"'), Buffer.from(bad), Buffer.from('"}')]);

      // Act
      const response = await invoke(chat, {
        ...chatRequest(keys.widget, bytes.toString('base64')),
        isBase64Encoded: true,
      });

      // Assess
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('INVALID_JSON');
    });

    it('It should accept valid UTF-8 in a base64 body', async () => {
      // Prepare
      const { chat, keys } = setup();
      const body = Buffer.from(JSON.stringify({ sessionId: 's-1', message: 'h\u00e9llo \u{1f600}' })).toString(
        'base64',
      );

      // Act
      const response = await invoke(chat, { ...chatRequest(keys.widget, body), isBase64Encoded: true });

      // Assess
      expect(response.statusCode).toBe(200);
      expect(response.json).toMatchObject({ message: { content: 'Echo: h\u00e9llo \u{1f600}' } });
    });
  });
});
