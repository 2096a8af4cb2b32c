/**
 * Fault injection in process, through the real handlers and Middy chain: the secret store
 * unreachable past the stale limit (fake clock), and the model down or hung. Each fault answers
 * the contract status with the contract body, keeps and duplicates nothing it should not, and
 * clears by itself once the dependency is back.
 */
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { build as buildChat } from '../../lambdas/handlers/post-chat.js';
import { build as buildListConversations } from '../../lambdas/handlers/admin-list-conversations.js';
import { build as buildMint } from '../../lambdas/handlers/mint-token.js';
import type { LambdaHandler } from '../../lambdas/http/handler.js';
import type { CompletionRequest, ModelProvider } from '../../lambdas/lib/llm/model-provider.js';
import { apiEvent, chatRequest, fakeRuntime, invoke, type EventInput } from '../helpers/fake-runtime.js';

const SECOND = 1000;
const UNAVAILABLE = {
  code: 'SERVICE_UNAVAILABLE',
  message: 'The service is temporarily unavailable. Try again later.',
};
const UPSTREAM = { code: 'UPSTREAM_ERROR', message: 'The model provider failed to answer.' };

describe('with the secret store unreachable', () => {
  // Defaults: cache 300 s, stale service for 3600 s more.
  const TTL = 300 * SECOND;
  const MAX_STALE = 3600 * SECOND;

  const setup = () => {
    // Token budgets off: the burst below sends 20 concurrent turns to one session, more than the
    // default session budget reserves for (budgets have their own tests).
    const fake = fakeRuntime({
      env: { BUDGET_TOKENS_PER_SESSION: '0', BUDGET_TOKENS_PER_IP: '0', BUDGET_TOKENS_PER_DAY: '0' },
    });
    const { keys } = fake;
    const routes: Array<[string, LambdaHandler, EventInput]> = [
      ['POST /v1/chat', buildChat(fake.runtime), chatRequest(keys.widget)],
      [
        'POST /v1/tokens',
        buildMint(fake.runtime),
        {
          method: 'POST',
          path: '/v1/tokens',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${keys.server}` },
          body: JSON.stringify({ userId: 'user-1' }),
        },
      ],
      [
        'GET /v1/admin/conversations',
        buildListConversations(fake.runtime),
        { method: 'GET', path: '/v1/admin/conversations', headers: { Authorization: `Bearer ${keys.admin}` } },
      ],
    ];
    return { fake, routes };
  };

  const SERVED = [200, 201, 200];
  const FAILED_CLOSED = [503, 503, 503];
  it.each<[string, string, number[], number]>([
    ['within the cache TTL', 'serve', SERVED, TTL - SECOND],
    ['past the TTL, with the stale copy', 'serve', SERVED, TTL + MAX_STALE - SECOND],
    ['past the stale limit', 'fail closed with 503', FAILED_CLOSED, TTL + MAX_STALE + SECOND],
  ])(
    'It should, %s, %s on every credential, then recover when the store is back',
    async (_when, _what, statuses, after) => {
      // Prepare: a warm cache, then the store goes away and time passes
      const { fake, routes } = setup();
      for (const [, handler, input] of routes) expect((await invoke(handler, input)).statusCode).toBeLessThan(300);
      fake.source.failure = new Error('connect ECONNREFUSED secretsmanager');
      fake.clock.advance(after);

      // Act
      const during = await Promise.all(routes.map(([, handler, input]) => invoke(handler, input)));
      fake.source.failure = undefined;
      const recovered = await Promise.all(routes.map(([, handler, input]) => invoke(handler, input)));

      // Assess
      expect(during.map((r) => r.statusCode)).toEqual(statuses);
      for (const response of during.filter((r) => r.statusCode === 503)) {
        expect(response.json).toEqual({ error: UNAVAILABLE });
        expect(response.body).not.toMatch(/ECONNREFUSED|secretsmanager/);
      }
      expect(recovered.map((r) => r.statusCode)).toEqual(SERVED);
    },
  );

  it('It should load the store once for a burst of requests past the TTL, not once per request', async () => {
    // Prepare
    const { fake, routes } = setup();
    const [, chat, input] = routes[0]!;
    await invoke(chat, input);
    fake.clock.advance(TTL + SECOND);
    const loadsBefore = fake.source.loads;

    // Act
    const responses = await Promise.all(Array.from({ length: 20 }, () => invoke(chat, input)));

    // Assess
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    expect(fake.source.loads - loadsBefore).toBe(1);
  });
});

/** A model a test switches between working, failing and hanging; it records what it was asked. */
class ControlledModel implements ModelProvider {
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  readonly asked: CompletionRequest[] = [];
  async complete(request: CompletionRequest): Promise<string> {
    this.asked.push(request);
    if (this.mode === 'fail') throw new Error('503 from https://model.internal/v1 (key sk-test-123)');
    if (this.mode === 'hang') return new Promise<string>(() => undefined);
    return `Answer ${this.asked.length}`;
  }
  async *stream(request: CompletionRequest): AsyncIterable<string> {
    yield await this.complete(request);
  }
}

/** A Lambda context with a deadline, as Lambda gives (Middy answers before it runs out). */
const contextWithDeadline = (ms: number): Context => {
  const deadline = Date.now() + ms;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'fault',
    awsRequestId: 'fault',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } as unknown as Context;
};

describe('with the model down or hung', () => {
  const setup = () => {
    const model = new ControlledModel();
    const fake = fakeRuntime({ model });
    const chat = buildChat(fake.runtime);
    const send = (message: string) =>
      invoke(chat, chatRequest(fake.keys.widget, { sessionId: 'model-fault', message }));
    const stored = () => fake.conversations.sessions.get('model-fault')?.messages.map((m) => m.message) ?? [];
    return { model, fake, chat, send, stored };
  };

  it('It should answer 502 while the model fails, keep each user message once, and recover by itself', async () => {
    // Prepare
    const { model, send, stored } = setup();
    await send('first');
    model.mode = 'fail';

    // Act
    const failed = [await send('second'), await send('third')];
    model.mode = 'ok';
    const recovered = await send('fourth');

    // Assess: the failures answer the contract; their messages are kept once; nothing else is invented
    expect(failed.map((r) => [r.statusCode, r.json])).toEqual([
      [502, { error: UPSTREAM }],
      [502, { error: UPSTREAM }],
    ]);
    expect(failed.map((r) => r.body).join()).not.toMatch(/sk-test|model\.internal/);
    expect(recovered.statusCode).toBe(200);
    expect(stored().map((m) => `${m.role}:${m.content}`)).toEqual([
      'user:first',
      'assistant:Answer 1',
      'user:second',
      'user:third',
      'user:fourth',
      'assistant:Answer 4',
    ]);
    // The model saw the failed turns' messages as context once each, in order.
    expect(model.asked.at(-1)?.messages.map((m) => m.content)).toEqual([
      'first',
      'Answer 1',
      'second',
      'third',
      'fourth',
    ]);
  });

  it('It should answer a hung model with a contract 5xx before the function deadline, and serve again once it answers', async () => {
    // Prepare
    const { model, fake, chat, send } = setup();
    model.mode = 'hang';
    const deadlineMs = 300;
    const event = apiEvent(chatRequest(fake.keys.widget, { sessionId: 'model-fault', message: 'are you there?' }));

    // Act
    const started = Date.now();
    const hung = (await chat(event, contextWithDeadline(deadlineMs))) as APIGatewayProxyResult;
    const elapsed = Date.now() - started;
    model.mode = 'ok';
    const recovered = await send('and now?');

    // Assess: 502 once the provider gives up by itself, 503 when the function deadline comes first
    expect([502, 503]).toContain(hung.statusCode);
    expect(JSON.parse(hung.body)).toEqual({ error: hung.statusCode === 502 ? UPSTREAM : UNAVAILABLE });
    expect(elapsed).toBeLessThan(deadlineMs + 5000);
    expect(recovered.statusCode).toBe(200);
  });
});
