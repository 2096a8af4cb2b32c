import { BoundedModel } from '../../../../lambdas/lib/llm/bounded.js';
import { ModelError, type CompletionRequest } from '../../../../lambdas/lib/llm/model-provider.js';
import { OpenAiCompatibleModel } from '../../../../lambdas/lib/llm/openai.js';
import { closedPort } from '../../../helpers/http.js';
import { startFakeOpenAi, type FakeOpenAi } from '../../../helpers/fake-openai.js';
import { metered } from '../../../helpers/metered-request.js';

const REQUEST: CompletionRequest = {
  system: 'Be brief.',
  messages: [
    { role: 'user', content: 'first question' },
    { role: 'assistant', content: 'first answer' },
    { role: 'user', content: 'second question' },
  ],
};

async function collect(stream: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const delta of stream) out.push(delta);
  return out;
}

async function failureOf(promise: Promise<unknown>): Promise<ModelError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ModelError) return error;
    throw error;
  }
  throw new Error('expected a ModelError');
}

describe('OpenAiCompatibleModel', () => {
  let fake: FakeOpenAi;
  let model: OpenAiCompatibleModel;
  beforeAll(async () => {
    fake = await startFakeOpenAi();
    model = new OpenAiCompatibleModel({
      baseUrl: fake.baseUrl,
      model: 'gpt-test',
      apiKey: async () => 'sk-test-key',
      connectTimeoutMs: 1000,
    });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    fake.behave({ kind: 'answer', deltas: ['Hello', ' from', ' the', ' fake'] });
  });

  it('It should send the key, the model, the system prompt and the context in order', async () => {
    await model.complete(REQUEST);
    const [received] = fake.requests;
    expect(received?.authorization).toBe('Bearer sk-test-key');
    expect(received?.body).toEqual({
      model: 'gpt-test',
      stream: false,
      messages: [{ role: 'system', content: 'Be brief.' }, ...REQUEST.messages],
    });
  });

  it('It should answer with the whole message when not streaming', async () => {
    await expect(model.complete(REQUEST)).resolves.toBe('Hello from the fake');
  });

  it('It should yield each delta when streaming, skipping role-only and finish chunks', async () => {
    await expect(collect(model.stream(REQUEST))).resolves.toEqual(['Hello', ' from', ' the', ' fake']);
    expect(fake.requests[0]?.body.stream).toBe(true);
  });

  it.each([
    ['HTTP 500', { kind: 'status', status: 500 } as const, 'http_status'],
    ['HTTP 401', { kind: 'status', status: 401 } as const, 'http_status'],
    ['a malformed chunk', { kind: 'malformed' } as const, 'malformed'],
    ['a stream cut before [DONE]', { kind: 'truncated', deltas: ['par', 'tial'] } as const, 'malformed'],
  ])('It should fail with a ModelError on %s, streamed or not', async (_name, behaviour, reason) => {
    fake.behave(behaviour);
    const streamed = await failureOf(collect(model.stream(REQUEST)));
    expect(streamed.reason).toBe(reason);
    if (behaviour.kind !== 'truncated') {
      const whole = await failureOf(model.complete(REQUEST));
      expect(whole.reason).toBe(reason);
    }
  });

  it('It should keep the error body of the endpoint (which may echo the prompt) out of the error', async () => {
    fake.behave({ kind: 'status', status: 400 });
    const error = await failureOf(model.complete(REQUEST));
    expect(error.message).toBe('The model endpoint answered HTTP 400.');
    expect(JSON.stringify(error)).not.toContain('SECRET-PROMPT-ECHO');
  });

  it('It should report an endpoint that refuses connections as a network failure', async () => {
    const down = new OpenAiCompatibleModel({
      baseUrl: `http://127.0.0.1:${await closedPort()}/v1`,
      model: 'gpt-test',
      apiKey: async () => 'sk-test-key',
      connectTimeoutMs: 1000,
    });
    expect((await failureOf(down.complete(REQUEST))).reason).toBe('network');
  });

  it('It should stop a stalled stream at the deadline and hang up on the endpoint', async () => {
    fake.behave({ kind: 'stall', first: 'Hel' });
    const bounded = new BoundedModel(model, 300);
    const seen: string[] = [];
    const error = await failureOf(
      (async () => {
        for await (const delta of bounded.stream(REQUEST)) seen.push(delta);
      })(),
    );
    expect(error.reason).toBe('timeout');
    expect(seen).toEqual(['Hel']);
    await fake.requests[0]?.hungUp;
  });

  it('It should hang up on the endpoint when the caller aborts', async () => {
    fake.behave({ kind: 'stall' });
    const caller = new AbortController();
    const pending = failureOf(new BoundedModel(model, 60_000).complete({ ...REQUEST, signal: caller.signal }));
    while (fake.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    caller.abort();
    expect((await pending).reason).toBe('aborted');
    await fake.requests[0]?.hungUp;
  });

  describe('metering (design §12)', () => {
    it.each([
      ['a JSON answer', false],
      ['a stream, from its last chunk', true],
    ])('should pass on the usage of %s and send the output limit', async (_, stream) => {
      // Prepare
      fake.behave({ kind: 'answer', deltas: ['Hi'], usage: { prompt_tokens: 12, completion_tokens: 3 } });
      const { request, reported } = metered(64);

      // Act
      if (stream) await collect(model.stream(request));
      else await model.complete(request);

      // Assess
      expect(reported).toEqual([{ inputTokens: 12, outputTokens: 3 }]);
      expect(fake.requests[0]?.body.max_tokens).toBe(64);
      expect(fake.requests[0]?.body.stream_options).toEqual(stream ? { include_usage: true } : undefined);
    });

    it.each([false, true])('should report nothing when the server sends no usage (stream: %s)', async (stream) => {
      fake.behave({ kind: 'answer', deltas: ['Hi'], usage: null });
      const { request, reported } = metered();
      if (stream) await collect(model.stream(request));
      else await model.complete(request);
      expect(reported).toEqual([]);
    });
  });
});
