import type { Readable } from 'node:stream';
import { build as buildChat } from '../../../lambdas/handlers/post-chat.js';
import { build as buildStream } from '../../../lambdas/handlers/post-chat-stream.js';
import { EchoModel } from '../../../lambdas/lib/llm/echo.js';
import { ModelError, type CompletionRequest, type ModelProvider } from '../../../lambdas/lib/llm/model-provider.js';
import type { StreamingResult } from '../../../lambdas/http/streaming.js';
import { apiEvent, chatRequest, errorOf, fakeRuntime, invoke, type FakeRuntime } from '../../helpers/fake-runtime.js';

/** The echo model, counting its calls and able to fail or hold its answer on demand. */
class ScriptedModel implements ModelProvider {
  calls = 0;
  failAfterDeltas: number | undefined;
  hold: Promise<void> | undefined;
  lastRequest: CompletionRequest | undefined;
  readonly #echo = new EchoModel();

  async complete(request: CompletionRequest): Promise<string> {
    this.calls += 1;
    this.lastRequest = request;
    await this.hold;
    if (this.failAfterDeltas !== undefined) throw new Error('model down');
    return this.#echo.complete(request);
  }

  async *stream(request: CompletionRequest): AsyncGenerator<string> {
    this.calls += 1;
    this.lastRequest = request;
    let sent = 0;
    for await (const delta of this.#echo.stream(request)) {
      if (sent === this.failAfterDeltas) throw new Error('model down');
      sent += 1;
      yield delta;
    }
  }
}

interface Event {
  type: string;
  delta?: string;
  message?: { content: string; partial?: boolean };
  error?: { code: string; message: string };
}

const eventsOf = (body: string): Event[] =>
  body
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      expect(block.startsWith('data: ')).toBe(true);
      return JSON.parse(block.slice('data: '.length)) as Event;
    });

const streamRequest = (fake: FakeRuntime, message = 'one two three', headers: Record<string, string> = {}) => ({
  ...chatRequest(fake.keys.widget, { sessionId: 'session-1', message }, headers),
  path: '/v1/chat/stream',
});

const storedOf = (fake: FakeRuntime) =>
  fake.conversations.sessions.get('session-1')?.messages.map((m) => m.message) ?? [];

describe('POST /v1/chat with Idempotency-Key', () => {
  let model: ScriptedModel;
  let fake: FakeRuntime;
  beforeEach(() => {
    model = new ScriptedModel();
    fake = fakeRuntime({ model });
  });
  const send = (message: string, key: string | undefined, sessionId = 'session-1') =>
    invoke(
      buildChat(fake.runtime),
      chatRequest(fake.keys.widget, { sessionId, message }, key === undefined ? {} : { 'Idempotency-Key': key }),
    );

  it('It should replay the first answer without calling the model or storing anything again', async () => {
    const first = await send('hello', 'key-1');
    const replay = await send('hello', 'key-1');

    expect(replay.statusCode).toBe(200);
    expect(replay.json).toEqual(first.json);
    expect(replay.headers['Idempotent-Replayed']).toBe('true');
    expect(first.headers['Idempotent-Replayed']).toBeUndefined();
    expect(model.calls).toBe(1);
    expect(storedOf(fake)).toHaveLength(2);
  });

  it('It should refuse the same key with another message as 422 IDEMPOTENCY_KEY_REUSED', async () => {
    await send('hello', 'key-1');
    const reused = await send('something else', 'key-1');
    expect(reused.statusCode).toBe(422);
    expect(errorOf(reused).code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(model.calls).toBe(1);
  });

  it('It should scope keys to the session: the same key in another session is a new turn', async () => {
    await send('hello', 'key-1', 'session-1');
    const other = await send('hello', 'key-1', 'session-2');
    expect(other.statusCode).toBe(200);
    expect(other.headers['Idempotent-Replayed']).toBeUndefined();
    expect(model.calls).toBe(2);
  });

  it('It should answer 409 IDEMPOTENCY_IN_PROGRESS with Retry-After while the first attempt runs', async () => {
    let release: () => void = () => undefined;
    model.hold = new Promise<void>((resolve) => (release = resolve));
    const first = send('hello', 'key-1');
    while (model.calls === 0) await new Promise((resolve) => setImmediate(resolve));

    const concurrent = await send('hello', 'key-1');
    release();

    expect(concurrent.statusCode).toBe(409);
    expect(errorOf(concurrent).code).toBe('IDEMPOTENCY_IN_PROGRESS');
    expect(concurrent.headers['Retry-After']).toBe('1');
    expect((await first).statusCode).toBe(200);
  });

  it('It should let a retry after a model failure answer the stored user message, storing it once', async () => {
    model.failAfterDeltas = 0;
    const failed = await send('hello', 'key-1');
    expect(failed.statusCode).toBe(502);
    expect(storedOf(fake)).toEqual([expect.objectContaining({ role: 'user', content: 'hello' })]);

    model.failAfterDeltas = undefined;
    const retried = await send('hello', 'key-1');

    expect(retried.statusCode).toBe(200);
    expect(storedOf(fake).map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(model.lastRequest?.messages).toEqual([{ role: 'user', content: 'hello' }]);
    expect((await fake.conversations.get('session-1'))?.messageCount).toBe(2);
  });

  it('It should answer 404 to a replay whose conversation was erased since', async () => {
    await send('hello', 'key-1');
    await fake.conversations.delete('session-1');
    const replay = await send('hello', 'key-1');
    expect(replay.statusCode).toBe(404);
  });

  it.each([
    ['empty', ''],
    ['with a space', 'a b'],
    ['non-ASCII', 'ключ'],
    ['longer than 255', 'k'.repeat(256)],
  ])('It should refuse an Idempotency-Key that is %s with 400', async (_name, key) => {
    const response = await send('hello', key);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ path: 'headers.Idempotency-Key' }],
    });
    expect(model.calls).toBe(0);
  });

  it('It should refuse two Idempotency-Key headers', async () => {
    const event = apiEvent(chatRequest(fake.keys.widget));
    const response = await invoke(buildChat(fake.runtime), {
      ...event,
      multiValueHeaders: { ...event.multiValueHeaders, 'Idempotency-Key': ['a', 'b'] },
    });
    expect(response.statusCode).toBe(400);
  });

  it('It should store the user message before the model is called', async () => {
    let storedWhenCalled: number | undefined;
    const spy: ModelProvider = {
      complete: async (request) => {
        storedWhenCalled = storedOf(fake).length;
        return new EchoModel().complete(request);
      },
      stream: (request) => new EchoModel().stream(request),
    };
    fake = fakeRuntime({ model: spy });
    await send('hello', undefined);
    expect(storedWhenCalled).toBe(1);
  });
});

describe('POST /v1/chat/stream', () => {
  let model: ScriptedModel;
  let fake: FakeRuntime;
  beforeEach(() => {
    model = new ScriptedModel();
    // The model's own deltas, one per word: guardrail windows are tested in lib/guardrails.
    fake = fakeRuntime({ model, guardrail: null });
  });

  it('It should send start, one token per word and done whose content equals the deltas', async () => {
    const response = await invoke(buildStream(fake.runtime), streamRequest(fake));

    expect(response.statusCode).toBe(200);
    expect(response.headers['Content-Type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['X-Content-Type-Options']).toBe('nosniff');
    const events = eventsOf(response.body);
    expect(events[0]).toEqual({ type: 'start', sessionId: 'session-1' });
    expect(events.at(-1)?.type).toBe('done');
    const deltas = events.filter((e) => e.type === 'token').map((e) => e.delta);
    expect(deltas).toEqual(['Echo:', ' one', ' two', ' three']);
    expect(events.at(-1)?.message?.content).toBe(deltas.join(''));
    expect(storedOf(fake).map((m) => m.content)).toEqual(['one two three', 'Echo: one two three']);
  });

  it('It should end with an error event and keep the partial answer, marked, when the model fails mid-stream', async () => {
    model.failAfterDeltas = 2;
    const response = await invoke(buildStream(fake.runtime), streamRequest(fake));

    const events = eventsOf(response.body);
    expect(events.map((e) => e.type)).toEqual(['start', 'token', 'token', 'error']);
    expect(events.at(-1)?.error).toEqual({ code: 'UPSTREAM_ERROR', message: 'The model provider failed to answer.' });
    expect(response.body).not.toContain('model down');
    expect(storedOf(fake)).toEqual([
      expect.objectContaining({ role: 'user' }),
      expect.objectContaining({ role: 'assistant', content: 'Echo: one', partial: true }),
    ]);
    expect((await fake.conversations.get('session-1'))?.messageCount).toBe(2);
  });

  it('It should store no answer and keep the count when the model fails before the first token', async () => {
    model.failAfterDeltas = 0;
    const response = await invoke(buildStream(fake.runtime), streamRequest(fake));

    expect(eventsOf(response.body).map((e) => e.type)).toEqual(['start', 'error']);
    expect(storedOf(fake).map((m) => m.role)).toEqual(['user']);
    expect(fake.conversations.sessions.get('session-1')?.nextSeq).toBe(2);
  });

  it('It should stop the model and keep what was said when the reader goes away', async () => {
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
    const result = (await buildStream(fake.runtime)(
      apiEvent(streamRequest(fake, words)),
      {} as never,
    )) as StreamingResult;
    const body: Readable = result.body;

    const first = (await body[Symbol.asyncIterator]().next()) as IteratorResult<string>;
    expect(first.value).toContain('"start"');
    body.destroy();
    while (storedOf(fake).length < 2) await new Promise((resolve) => setImmediate(resolve));

    const answer = storedOf(fake)[1];
    expect(answer).toMatchObject({ role: 'assistant', partial: true });
    expect(answer?.content.length).toBeLessThan(`Echo: ${words}`.length);
    expect(model.lastRequest?.signal?.aborted).toBe(true);
  });

  it('should stop a model that has stalled as soon as the reader goes away, not at its timeout', async () => {
    // Prepare: a model that says one word, then waits for its signal (it would wait forever)
    let modelSignal: AbortSignal | undefined;
    const stalled: ModelProvider = {
      complete: () => Promise.reject(new Error('not used')),
      async *stream(request) {
        modelSignal = request.signal;
        yield 'Partial';
        await new Promise((resolve) => request.signal?.addEventListener('abort', resolve, { once: true }));
        throw new ModelError('aborted', 'The answer is no longer wanted.');
      },
    };
    fake = fakeRuntime({ model: stalled, guardrail: null });
    const result = (await buildStream(fake.runtime)(apiEvent(streamRequest(fake)), {} as never)) as StreamingResult;
    const events = result.body[Symbol.asyncIterator]();
    expect(String((await events.next()).value)).toContain('"start"');
    expect(String((await events.next()).value)).toContain('"Partial"');
    while (modelSignal === undefined) await new Promise((resolve) => setImmediate(resolve));

    // Act
    result.body.destroy();
    // A bounded number of turns of the event loop (the stalled model itself never ends).
    for (let turn = 0; turn < 100 && !modelSignal.aborted; turn += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }

    // Assess
    expect(modelSignal.aborted).toBe(true);
    while (storedOf(fake).length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(storedOf(fake)[1]).toMatchObject({ role: 'assistant', content: 'Partial', partial: true });
  });

  it.each([
    [
      'no widget key',
      (f: FakeRuntime) => ({ ...streamRequest(f), headers: { 'Content-Type': 'application/json' } }),
      401,
    ],
    ['an Idempotency-Key', (f: FakeRuntime) => streamRequest(f, 'hi', { 'Idempotency-Key': 'k1' }), 400],
    ['an empty message', (f: FakeRuntime) => streamRequest(f, '   '), 400],
  ])('It should answer a request with %s with a JSON error, not a stream', async (_name, request, status) => {
    const response = await invoke(buildStream(fake.runtime), request(fake));
    expect(response.statusCode).toBe(status);
    expect(response.headers['Content-Type']).toBe('application/json; charset=utf-8');
    expect(errorOf(response).code).toEqual(expect.any(String));
    expect(model.calls).toBe(0);
  });
});
