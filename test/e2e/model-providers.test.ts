/**
 * The local server with `LLM_PROVIDER=openai` against a fake OpenAI-compatible server on
 * loopback: what the model receives, streamed and JSON answers, failures as 502 or an `error`
 * event, a model that hangs bounded by `MODEL_TIMEOUT_MS`, a reader that leaves stopping the model
 * call, and the user's message kept exactly once.
 */
import { useServerWithFakeOpenAi } from '../helpers/fake-openai.js';
import { postJson, type ErrorBody } from '../helpers/http.js';

const MODEL_TIMEOUT_MS = 1500;

describe('OpenAI-compatible provider, end to end', () => {
  const target = useServerWithFakeOpenAi(
    'provider',
    {
      OPENAI_MODEL: 'fake-model',
      SYSTEM_PROMPT: 'You are a test.',
      CONTEXT_MESSAGES: '3',
      MODEL_TIMEOUT_MS: String(MODEL_TIMEOUT_MS),
      // Provider behaviour, delta by delta: the guardrails' windows are tested in guardrails.test.ts.
      GUARDRAIL_PROVIDER: 'none',
    },
    ['Hello', ' from', ' the', ' fake'],
  );
  const { sessionId, key, stream } = target;

  const chat = (message: string) =>
    postJson(`${target.server.url}/v1/chat`, { sessionId: sessionId(), message }, key());
  const conversation = async () => {
    const response = await target.conversation();
    return response.json as {
      conversation: { messageCount: number };
      messages: { role: string; content: string; partial?: boolean }[];
    };
  };

  it('It should send the key, the system prompt and the last CONTEXT_MESSAGES messages', async () => {
    await chat('first');
    await chat('second');
    expect(target.fake.requests.at(-1)?.authorization).toBe('Bearer sk-fake-0123456789');
    expect(target.fake.requests.at(-1)?.body).toMatchObject({
      model: 'fake-model',
      stream: false,
      messages: [
        { role: 'system', content: 'You are a test.' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'Hello from the fake' },
        { role: 'user', content: 'second' },
      ],
    });
  });

  it('It should answer a JSON turn with the model answer', async () => {
    const response = await chat('hi');
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ message: { role: 'assistant', content: 'Hello from the fake' } });
  });

  it('It should relay the model stream as tokens whose sum is the done message', async () => {
    const events = await (await stream('hi')).rest();
    expect(events.map((e) => e.type)).toEqual(['start', 'token', 'token', 'token', 'token', 'done']);
    expect(events.filter((e) => e.type === 'token').map((e) => e.delta)).toEqual(['Hello', ' from', ' the', ' fake']);
    expect(target.fake.requests[0]?.body.stream).toBe(true);
  });

  it.each([
    ['an HTTP 500', { kind: 'status', status: 500 } as const],
    ['malformed JSON', { kind: 'malformed' } as const],
  ])(
    'It should answer %s from the model with 502 UPSTREAM_ERROR and keep the user message once',
    async (_n, behaviour) => {
      target.fake.behave(behaviour);
      const response = await chat('are you there?');
      expect(response.status).toBe(502);
      expect((response.json as ErrorBody).error).toEqual({
        code: 'UPSTREAM_ERROR',
        message: 'The model provider failed to answer.',
      });
      expect(response.text).not.toContain('SECRET-PROMPT-ECHO');
      const stored = await conversation();
      expect(stored.messages).toEqual([expect.objectContaining({ role: 'user', content: 'are you there?' })]);
      expect(stored.conversation.messageCount).toBe(1);
    },
  );

  it('It should end a stream whose model fails with an error event and a partial answer, marked', async () => {
    target.fake.behave({ kind: 'malformed' });
    const events = await (await stream('hi')).rest();
    expect(events.map((e) => e.type)).toEqual(['start', 'token', 'error']);
    expect(events.at(-1)).toEqual({
      type: 'error',
      error: { code: 'UPSTREAM_ERROR', message: 'The model provider failed to answer.' },
    });
    const stored = await conversation();
    expect(stored.messages.map((m) => [m.role, m.content, m.partial])).toEqual([
      ['user', 'hi', undefined],
      ['assistant', 'ok', true],
    ]);
    expect(stored.conversation.messageCount).toBe(2);
  });

  it('It should answer 502 when the model hangs, within the timeout plus a margin, and hang up on it', async () => {
    target.fake.behave({ kind: 'stall' });
    const started = Date.now();
    const response = await chat('slow?');
    expect(response.status).toBe(502);
    // The bound is what is asserted, not a speed: far below the 29 s integration timeout.
    expect(Date.now() - started).toBeLessThan(MODEL_TIMEOUT_MS + 10_000);
    await target.fake.requests[0]?.hungUp;
  });

  it('It should deliver tokens while the model is still generating, and stop the model when the reader leaves', async () => {
    target.fake.behave({ kind: 'stall', first: 'Partial' });
    const open = await stream('keep going');
    expect(await open.next()).toMatchObject({ type: 'start' });
    expect(await open.next()).toEqual({ type: 'token', delta: 'Partial' });

    open.close();

    await target.fake.requests[0]?.hungUp;
    let stored = await conversation();
    while (stored.messages.length < 2) stored = await conversation();
    expect(stored.messages[1]).toMatchObject({ role: 'assistant', content: 'Partial', partial: true });
  });

  it('It should replay an Idempotency-Key turn without asking the model again', async () => {
    const headers = { ...key(), 'Idempotency-Key': `idem-${target.test}` };
    const body = { sessionId: sessionId(), message: 'once only' };
    const first = await postJson(`${target.server.url}/v1/chat`, body, headers);
    const again = await postJson(`${target.server.url}/v1/chat`, body, headers);
    const other = await postJson(`${target.server.url}/v1/chat`, { ...body, message: 'changed' }, headers);

    expect(again.json).toEqual(first.json);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(other.status).toBe(422);
    expect((other.json as ErrorBody).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(target.fake.requests).toHaveLength(1);
    expect((await conversation()).conversation.messageCount).toBe(2);
  });
});
