import { jest } from '@jest/globals';
import { BoundedModel } from '../../../../lambdas/lib/llm/bounded.js';
import { EchoModel } from '../../../../lambdas/lib/llm/echo.js';
import { ModelError, type CompletionRequest, type ModelProvider } from '../../../../lambdas/lib/llm/model-provider.js';

const REQUEST: CompletionRequest = { system: 'sys', messages: [{ role: 'user', content: 'one two  three' }] };

/** A provider that never answers and ignores its signal: the worst case the bound must handle. */
const deaf: ModelProvider = {
  complete: () => new Promise<string>(() => undefined),
  stream: () => ({
    [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<string>>(() => undefined) }),
  }),
};

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ModelError) return error.reason;
    throw error;
  }
  return 'resolved';
}

describe('BoundedModel', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it.each([
    ['complete', (m: ModelProvider) => m.complete(REQUEST)],
    [
      'stream',
      async (m: ModelProvider) => {
        for await (const delta of m.stream(REQUEST)) void delta;
      },
    ],
  ])(
    'It should fail %s with a timeout at the deadline even when the provider ignores its signal',
    async (_name, call) => {
      // Prepare
      const bounded = new BoundedModel(deaf, 5000);
      let settled = false;
      const outcome = reasonOf(call(bounded)).finally(() => (settled = true));

      // Act
      await jest.advanceTimersByTimeAsync(4999);
      const before = settled;
      await jest.advanceTimersByTimeAsync(1);

      // Assess
      expect(before).toBe(false);
      await expect(outcome).resolves.toBe('timeout');
    },
  );

  it('It should fail at once with aborted when the caller aborts', async () => {
    const caller = new AbortController();
    const outcome = reasonOf(new BoundedModel(deaf, 5000).complete({ ...REQUEST, signal: caller.signal }));
    caller.abort();
    await expect(outcome).resolves.toBe('aborted');
  });

  it('It should hand the provider a signal that aborts at the deadline', async () => {
    let seen: AbortSignal | undefined;
    const spy: ModelProvider = {
      ...deaf,
      complete: (request) => {
        seen = request.signal;
        return new Promise<string>(() => undefined);
      },
    };
    const outcome = reasonOf(new BoundedModel(spy, 100).complete(REQUEST));
    expect(seen?.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(100);
    await outcome;
    expect(seen?.aborted).toBe(true);
  });

  it('It should wrap a provider error as a ModelError of reason provider, keeping it as the cause', async () => {
    const cause = new Error('boom');
    const failing: ModelProvider = { ...deaf, complete: () => Promise.reject(cause) };
    const error = await new BoundedModel(failing, 100).complete(REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).reason).toBe('provider');
    expect((error as ModelError).cause).toBe(cause);
  });

  it('It should pass answers through and leave no timer behind', async () => {
    const bounded = new BoundedModel(new EchoModel(), 100);
    await expect(bounded.complete(REQUEST)).resolves.toBe('Echo: one two  three');
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('EchoModel', () => {
  it.each([['hello'], ['one two  three'], ['line\nbreak']])(
    'It should stream %j word by word, the deltas adding up to the whole answer',
    async (content) => {
      const request: CompletionRequest = { system: '', messages: [{ role: 'user', content }] };
      const deltas: string[] = [];
      for await (const delta of new EchoModel().stream(request)) deltas.push(delta);
      expect(deltas.join('')).toBe(await new EchoModel().complete(request));
      expect(deltas.length).toBe(`Echo: ${content}`.trim().split(/\s+/).length);
    },
  );

  it('It should answer the last user message, not an earlier one', async () => {
    const request: CompletionRequest = {
      system: '',
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'Echo: first' },
        { role: 'user', content: 'second' },
      ],
    };
    await expect(new EchoModel().complete(request)).resolves.toBe('Echo: second');
  });
});
