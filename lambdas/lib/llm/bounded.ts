/**
 * Bounds every model call in time, whatever the provider does with its signal: past the deadline,
 * or when the caller gives up, the call is aborted and the caller gets a `ModelError` at once
 * instead of waiting for a provider that does not stop.
 */
import { ModelError, type CompletionRequest, type ModelProvider } from './model-provider.js';

interface Deadline {
  readonly signal: AbortSignal;
  /** Settles with `promise`, or rejects as soon as the call is aborted. */
  race<T>(promise: Promise<T>): Promise<T>;
  /** The error to report for `error`, thrown while the call ran. */
  classify(error: unknown): ModelError;
  /** Stops the timer, and aborts whatever the provider still has in flight. */
  dispose(): void;
}

function deadline(parent: AbortSignal | undefined, timeoutMs: number): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const failure = () =>
    timedOut
      ? new ModelError('timeout', `The model did not answer within ${timeoutMs} ms.`)
      : new ModelError('aborted', 'The answer is no longer wanted.');
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(failure()), { once: true });
  });
  aborted.catch(() => undefined);
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onParentAbort = () => controller.abort();
  if (parent?.aborted) controller.abort();
  parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    race: (promise) => Promise.race([promise, aborted]),
    classify: (error) => {
      if (controller.signal.aborted) return failure();
      return error instanceof ModelError
        ? error
        : new ModelError('provider', 'The model provider failed.', { cause: error });
    },
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
      controller.abort();
    },
  };
}

/** A provider whose calls end within `timeoutMs`, and as soon as the request's signal aborts. */
export class BoundedModel implements ModelProvider {
  readonly #inner: ModelProvider;
  readonly #timeoutMs: number;

  constructor(inner: ModelProvider, timeoutMs: number) {
    this.#inner = inner;
    this.#timeoutMs = timeoutMs;
  }

  async complete(request: CompletionRequest): Promise<string> {
    const call = deadline(request.signal, this.#timeoutMs);
    try {
      return await call.race(this.#inner.complete({ ...request, signal: call.signal }));
    } catch (error) {
      throw call.classify(error);
    } finally {
      call.dispose();
    }
  }

  async *stream(request: CompletionRequest): AsyncGenerator<string> {
    const call = deadline(request.signal, this.#timeoutMs);
    const iterator = this.#inner.stream({ ...request, signal: call.signal })[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const next = await call.race(iterator.next());
        if (next.done) {
          finished = true;
          return;
        }
        yield next.value;
      }
    } catch (error) {
      throw call.classify(error);
    } finally {
      call.dispose();
      // A provider still waiting on its source is told to stop; it may not answer, so no await.
      if (!finished) iterator.return?.()?.catch(() => undefined);
    }
  }
}
