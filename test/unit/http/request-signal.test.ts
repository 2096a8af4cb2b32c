/**
 * Plain `POST /v1/chat` stops its model call when the caller is gone (a host that can tell) or the
 * Lambda deadline nears (deployed), keeps the user message stored once, and a retry with the same
 * `Idempotency-Key` neither stores it again nor finds the first attempt in progress.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { build as buildChat } from '../../../lambdas/handlers/post-chat.js';
import type { CompletionRequest, ModelProvider } from '../../../lambdas/lib/llm/model-provider.js';
import { EchoModel } from '../../../lambdas/lib/llm/echo.js';
import { CLIENT_GONE, DEADLINE_MARGIN_MS, requestSignal } from '../../../lambdas/http/request-signal.js';
import { apiEvent, chatRequest, fakeRuntime } from '../../helpers/fake-runtime.js';

/** A model that answers only once released, and records whether its call was aborted. */
class HeldModel implements ModelProvider {
  readonly started: Promise<void>;
  aborted = 0;
  calls = 0;
  hold = true;
  #start!: () => void;
  readonly #echo = new EchoModel();
  constructor() {
    this.started = new Promise((resolve) => (this.#start = resolve));
  }
  async complete(request: CompletionRequest): Promise<string> {
    this.calls += 1;
    this.#start();
    if (this.hold) {
      await new Promise<never>((_resolve, reject) => {
        request.signal?.addEventListener('abort', () => {
          this.aborted += 1;
          reject(new Error('aborted'));
        });
      });
    }
    return this.#echo.complete(request);
  }
  // eslint-disable-next-line require-yield
  async *stream(): AsyncGenerator<string> {
    throw new Error('not used');
  }
}

const context = (extra: Partial<Context> & { [CLIENT_GONE]?: AbortSignal } = {}): Context =>
  ({ functionName: 'test', awsRequestId: 'r', ...extra }) as unknown as Context;

describe('requestSignal', () => {
  it('should never abort for a context with neither a deadline nor a disconnect signal', () => {
    // Act
    const signal = requestSignal(context());

    // Assess
    expect(signal.aborted).toBe(false);
  });

  it('should abort when the host says the client is gone', () => {
    // Prepare
    const gone = new AbortController();
    const signal = requestSignal(context({ [CLIENT_GONE]: gone.signal }));

    // Act
    gone.abort();

    // Assess
    expect(signal.aborted).toBe(true);
  });

  it('should abort at once when less than the margin is left before the deadline', () => {
    // Act
    const signal = requestSignal(context({ getRemainingTimeInMillis: () => DEADLINE_MARGIN_MS - 1 }));

    // Assess: a zero timeout fires on the next turn of the event loop
    return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
  });
});

describe('POST /v1/chat with a caller that goes away', () => {
  const setup = () => {
    const model = new HeldModel();
    const fake = fakeRuntime({ model });
    const handler = buildChat(fake.runtime);
    const event = (headers: Record<string, string> = {}): APIGatewayProxyEvent =>
      apiEvent(chatRequest(fake.keys.widget, { sessionId: 'gone-1', message: 'hello' }, headers));
    return { model, fake, handler, event };
  };

  it.each<[string, Record<string, string>]>([
    ['without Idempotency-Key', {}],
    ['with Idempotency-Key', { 'Idempotency-Key': 'turn-1' }],
  ])('should abort the model call on disconnect and keep the user message once (%s)', async (_name, headers) => {
    // Prepare
    const s = setup();
    const gone = new AbortController();

    // Act
    const answer = s.handler(s.event(headers), context({ [CLIENT_GONE]: gone.signal }));
    await s.model.started;
    gone.abort();
    const response = await answer;

    // Assess
    expect(s.model.aborted).toBe(1);
    expect(response.statusCode).toBe(502);
    const stored = s.fake.conversations.sessions.get('gone-1')?.messages.map((m) => m.message.role);
    expect(stored).toEqual(['user']);
  });

  it('should answer a retry with the same Idempotency-Key without storing the user message again', async () => {
    // Prepare
    const s = setup();
    const gone = new AbortController();
    const first = s.handler(s.event({ 'Idempotency-Key': 'turn-2' }), context({ [CLIENT_GONE]: gone.signal }));
    await s.model.started;
    gone.abort();
    await first;
    s.model.hold = false;

    // Act
    const retry = await s.handler(s.event({ 'Idempotency-Key': 'turn-2' }), context());

    // Assess
    expect(retry.statusCode).toBe(200);
    const stored = s.fake.conversations.sessions.get('gone-1')?.messages.map((m) => m.message.role);
    expect(stored).toEqual(['user', 'assistant']);
    expect(s.model.calls).toBe(2);
  });

  it('should abort the model call before the Lambda deadline', async () => {
    // Prepare
    const s = setup();

    // Act
    const response = await s.handler(s.event(), context({ getRemainingTimeInMillis: () => DEADLINE_MARGIN_MS + 20 }));

    // Assess
    expect(s.model.aborted).toBe(1);
    expect(response.statusCode).toBe(502);
  });
});
