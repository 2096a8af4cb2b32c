import { ChatClient, type ChatEvent, type GetToken, type Session } from '../../../widget/src/client.js';
import { ChatError } from '../../../widget/src/errors.js';

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: { sessionId: string; message: string };
}

/** A fetch that answers each call with the next response and records what was sent. */
function fakeFetch(responses: Array<Response | Error>): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetchFn = (async (url: URL | string, init?: RequestInit) => {
    sent.push({
      url: String(url),
      headers: init?.headers as Record<string, string>,
      body: JSON.parse(init?.body as string) as Sent['body'],
    });
    const next = responses.shift();
    if (!next) throw new Error('no more responses');
    if (next instanceof Error) throw next;
    return next;
  }) as typeof fetch;
  return { fetch: fetchFn, sent };
}

const sse = (...events: unknown[]) =>
  new Response(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''), {
    status: 200,
    headers: { 'Content-Type': 'text/event-stream; charset=utf-8' },
  });

const answer = (content: string) =>
  sse(
    { type: 'start', sessionId: 's' },
    ...content.split(' ').map((word, i) => ({ type: 'token', delta: i === 0 ? word : ` ${word}` })),
    { type: 'done', sessionId: 's', message: { role: 'assistant', content, createdAt: '2026-01-01T00:00:00.000Z' } },
  );

const failure = (status: number, code: string, headers: Record<string, string> = {}, extra = {}) =>
  new Response(JSON.stringify({ error: { code, message: 'x', ...extra } }), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });

function fixedSession(): Session & { renewals: number } {
  let n = 0;
  const session = {
    renewals: 0,
    id: () => `session-${n}`,
    renew: () => {
      n += 1;
      session.renewals += 1;
    },
  };
  return session;
}

/** A getToken that hands out `tokens` in order and counts its calls. */
function tokens(...values: string[]): GetToken & { calls: number } {
  const getToken = Object.assign(
    async () => {
      getToken.calls += 1;
      return values.shift();
    },
    { calls: 0 },
  );
  return getToken;
}

async function collect(events: AsyncGenerator<ChatEvent>): Promise<ChatEvent[]> {
  const out: ChatEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

async function failureOf(events: AsyncGenerator<ChatEvent>): Promise<ChatError> {
  try {
    await collect(events);
  } catch (error) {
    if (error instanceof ChatError) return error;
    throw error;
  }
  throw new Error('the turn did not fail');
}

const KEY = 'widget-key';

describe('ChatClient', () => {
  it('It should stream the answer word by word, then the whole answer', async () => {
    const { fetch, sent } = fakeFetch([answer('Echo: hello world')]);
    const client = new ChatClient({ apiUrl: 'http://127.0.0.1:3000', widgetKey: KEY, fetch });
    const events = await collect(client.send(fixedSession(), 'hello world'));
    expect(events).toEqual([
      { type: 'token', delta: 'Echo:' },
      { type: 'token', delta: ' hello' },
      { type: 'token', delta: ' world' },
      { type: 'done', content: 'Echo: hello world' },
    ]);
    expect(sent).toEqual([
      {
        url: 'http://127.0.0.1:3000/v1/chat/stream',
        headers: expect.objectContaining({ 'Content-Type': 'application/json', 'X-Widget-Api-Key': KEY }) as unknown,
        body: { sessionId: 'session-0', message: 'hello world' },
      },
    ]);
    expect(sent[0]!.headers).not.toHaveProperty('Authorization');
  });

  it.each([
    [
      'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
      true,
      'https://abc.execute-api.eu-west-1.amazonaws.com/prod/v1/chat/stream',
    ],
    [
      'https://abc.execute-api.eu-west-1.amazonaws.com/prod/',
      true,
      'https://abc.execute-api.eu-west-1.amazonaws.com/prod/v1/chat/stream',
    ],
    ['https://chat.example.com/', false, 'https://chat.example.com/v1/chat'],
  ])('It should post %s (stream %s) to %s', async (apiUrl, stream, expected) => {
    const { fetch, sent } = fakeFetch([answer('ok')]);
    await collect(new ChatClient({ apiUrl, widgetKey: KEY, stream, fetch }).send(fixedSession(), 'hi'));
    expect(sent[0]!.url).toBe(expected);
  });

  it('It should read a whole JSON answer when not streaming', async () => {
    const body = { sessionId: 's', message: { role: 'assistant', content: 'Echo: hi', createdAt: 'x' } };
    const { fetch } = fakeFetch([
      new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } }),
    ]);
    const client = new ChatClient({ apiUrl: 'https://c.example.com', widgetKey: KEY, stream: false, fetch });
    expect(await collect(client.send(fixedSession(), 'hi'))).toEqual([{ type: 'done', content: 'Echo: hi' }]);
  });

  it('It should refresh an expired token exactly once and retry with the new one', async () => {
    const { fetch, sent } = fakeFetch([failure(401, 'TOKEN_EXPIRED'), answer('Echo: hi')]);
    const getToken = tokens('old', 'new');
    const client = new ChatClient({ apiUrl: 'https://c.example.com', widgetKey: KEY, getToken, fetch });
    const events = await collect(client.send(fixedSession(), 'hi'));
    expect(events.at(-1)).toEqual({ type: 'done', content: 'Echo: hi' });
    expect(getToken.calls).toBe(2);
    expect(sent.map((s) => s.headers.Authorization)).toEqual(['Bearer old', 'Bearer new']);
  });

  it('It should give up after one refresh when the new token is refused too', async () => {
    const { fetch, sent } = fakeFetch([failure(401, 'TOKEN_EXPIRED'), failure(401, 'TOKEN_EXPIRED')]);
    const getToken = tokens('old', 'also-old', 'never');
    const client = new ChatClient({ apiUrl: 'https://c.example.com', widgetKey: KEY, getToken, fetch });
    const error = await failureOf(client.send(fixedSession(), 'hi'));
    expect(error.code).toBe('TOKEN_EXPIRED');
    expect(getToken.calls).toBe(2);
    expect(sent).toHaveLength(2);
  });

  it('It should reuse a token across turns and ask again only after a 401', async () => {
    const { fetch, sent } = fakeFetch([answer('a'), failure(401, 'UNAUTHORIZED'), answer('b')]);
    const getToken = tokens('t1', 't2');
    const client = new ChatClient({ apiUrl: 'https://c.example.com', widgetKey: KEY, getToken, fetch });
    await collect(client.send(fixedSession(), 'one'));
    expect((await failureOf(client.send(fixedSession(), 'two'))).code).toBe('UNAUTHORIZED');
    await collect(client.send(fixedSession(), 'three'));
    expect(sent.map((s) => s.headers.Authorization)).toEqual(['Bearer t1', 'Bearer t1', 'Bearer t2']);
    expect(getToken.calls).toBe(2);
  });

  it.each([[null], [undefined], ['']])('It should chat anonymously when getToken returns %j', async (value) => {
    const { fetch, sent } = fakeFetch([answer('ok')]);
    const client = new ChatClient({ apiUrl: 'https://c.example.com', widgetKey: KEY, getToken: () => value, fetch });
    await collect(client.send(fixedSession(), 'hi'));
    expect(sent[0]!.headers).not.toHaveProperty('Authorization');
  });

  it('It should report a getToken that throws without calling the API', async () => {
    const { fetch, sent } = fakeFetch([]);
    const getToken = () => Promise.reject(new Error('backend down'));
    const client = new ChatClient({ apiUrl: 'https://c.example.com', widgetKey: KEY, getToken, fetch });
    expect((await failureOf(client.send(fixedSession(), 'hi'))).code).toBe('TOKEN_UNAVAILABLE');
    expect(sent).toHaveLength(0);
  });

  it('It should start a new session once when the stored one belongs to someone else', async () => {
    const { fetch, sent } = fakeFetch([failure(404, 'NOT_FOUND'), answer('ok')]);
    const session = fixedSession();
    await collect(new ChatClient({ apiUrl: 'https://c.example.com', widgetKey: KEY, fetch }).send(session, 'hi'));
    expect(sent.map((s) => s.body.sessionId)).toEqual(['session-0', 'session-1']);
    expect(session.renewals).toBe(1);
  });

  it.each([
    [
      '429 with Retry-After',
      failure(429, 'RATE_LIMIT_EXCEEDED', { 'Retry-After': '17' }, { retry_after: 3 }),
      'RATE_LIMIT_EXCEEDED',
      429,
      17,
    ],
    [
      '429 with retry_after only',
      failure(429, 'RATE_LIMIT_EXCEEDED', {}, { retry_after: 3 }),
      'RATE_LIMIT_EXCEEDED',
      429,
      3,
    ],
    [
      '429 with a date in Retry-After',
      failure(429, 'RATE_LIMIT_EXCEEDED', { 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' }),
      'RATE_LIMIT_EXCEEDED',
      429,
      undefined,
    ],
    ['503', failure(503, 'SERVICE_UNAVAILABLE'), 'SERVICE_UNAVAILABLE', 503, undefined],
    ['403', failure(403, 'ORIGIN_NOT_ALLOWED'), 'ORIGIN_NOT_ALLOWED', 403, undefined],
    ['a non-JSON 502', new Response('<html>Bad Gateway</html>', { status: 502 }), 'HTTP_502', 502, undefined],
    [
      'an error event after start',
      sse(
        { type: 'start' },
        { type: 'token', delta: 'Ec' },
        { type: 'error', error: { code: 'UPSTREAM_ERROR', message: 'x' } },
      ),
      'UPSTREAM_ERROR',
      502,
      undefined,
    ],
    [
      'a stream that ends without done',
      sse({ type: 'start' }, { type: 'token', delta: 'Ec' }),
      'STREAM_INTERRUPTED',
      0,
      undefined,
    ],
    [
      'an event that is not JSON',
      new Response('data: {oops\n\n', { headers: { 'Content-Type': 'text/event-stream' } }),
      'STREAM_INTERRUPTED',
      0,
      undefined,
    ],
    ['a network failure', new TypeError('Failed to fetch'), 'NETWORK_ERROR', 0, undefined],
  ])('It should fail a turn on %s as %s', async (_name, response, code, status, retryAfter) => {
    const { fetch, sent } = fakeFetch([response]);
    const error = await failureOf(
      new ChatClient({ apiUrl: 'https://c.example.com', widgetKey: KEY, fetch }).send(fixedSession(), 'hi'),
    );
    expect({ code: error.code, status: error.status, retryAfter: error.retryAfter }).toEqual({
      code,
      status,
      retryAfter,
    });
    expect(sent).toHaveLength(1);
  });
});
