import { build as buildGetConversation } from '../../../lambdas/handlers/admin-get-conversation.js';
import { build as buildUsage } from '../../../lambdas/handlers/admin-get-usage.js';
import { build as buildPause } from '../../../lambdas/handlers/admin-pause-chat.js';
import { build as buildResume } from '../../../lambdas/handlers/admin-resume-chat.js';
import { build as buildChat } from '../../../lambdas/handlers/post-chat.js';
import { build as buildStream } from '../../../lambdas/handlers/post-chat-stream.js';
import { utcDay } from '../../../lambdas/lib/budget.js';
import { EchoModel } from '../../../lambdas/lib/llm/echo.js';
import { ModelError, type CompletionRequest, type ModelProvider } from '../../../lambdas/lib/llm/model-provider.js';
import { loadTokenizer, promptTokens } from '../../../lambdas/lib/llm/tokenizer.js';
import { reservationFor } from '../../../lambdas/lib/metering.js';
import { guardedSystemPrompt } from '../../../lambdas/lib/guardrails/screen.js';
import type { Readable } from 'node:stream';
import type { Context } from 'aws-lambda';
import {
  T0,
  apiEvent,
  chatRequest,
  errorOf,
  fakeRuntime,
  invoke,
  makeKeys,
  type FakeRuntime,
} from '../../helpers/fake-runtime.js';

/** Echo that counts its calls, and can report usage or fail. */
class CountingModel implements ModelProvider {
  calls = 0;
  /** The system prompt the model was sent (the guardrails add a canary to the configured one). */
  system = '';
  report: { inputTokens: number; outputTokens: number } | undefined;
  failure: ModelError | undefined;
  readonly #echo = new EchoModel();

  async complete(request: CompletionRequest): Promise<string> {
    this.calls += 1;
    this.system = request.system;
    if (this.failure) throw this.failure;
    if (this.report) request.onUsage?.(this.report);
    return this.#echo.complete(request);
  }

  async *stream(request: CompletionRequest): AsyncGenerator<string> {
    this.calls += 1;
    yield* this.#echo.stream(request);
  }
}

const SMALL = { CONTEXT_MAX_TOKENS: '100', MODEL_MAX_OUTPUT_TOKENS: '50', BUDGET_DEPLOYMENT_SHARDS: '1' };
const DAY = utcDay(T0);
const SECONDS_TO_MIDNIGHT = 12 * 3600;

async function reservation(fake: FakeRuntime, message = 'hello'): Promise<number> {
  return reservationFor(await loadTokenizer(), fake.runtime.config.llm, message);
}

function setup(env: Record<string, string> = {}, keys = makeKeys()) {
  const model = new CountingModel();
  const fake = fakeRuntime({ model, env: { ...SMALL, ...env }, keys });
  const chat = buildChat(fake.runtime);
  const send = (message = 'hello', headers: Record<string, string> = {}, sessionId = 'session-1') =>
    invoke(chat, chatRequest(fake.keys.widget, { sessionId, message }, headers));
  const session = () => fake.budgetStore.get({ scope: 'session', key: 'session-1|anonymous', day: DAY });
  /** The usage stored on the session's last answer (admin reads show it; the widget's answer does not). */
  const storedUsage = async () =>
    (await fake.conversations.messages('session-1', 100)).items.filter((m) => m.role === 'assistant').at(-1)?.usage;
  return { model, fake, send, session, storedUsage };
}

const admin = (fake: FakeRuntime, method: string, path: string, extra: object = {}) => ({
  method,
  path,
  headers: { Authorization: `Bearer ${fake.keys.admin}`, 'Content-Type': 'application/json' },
  ...extra,
});

describe('chat turns against budgets', () => {
  it('should charge the session what the turn used, and keep the usage on the stored answer only', async () => {
    // Prepare
    const { send, session, model, storedUsage } = setup();

    // Act
    const response = await send('hello');

    // Assess
    const tokenizer = await loadTokenizer();
    const input = promptTokens(tokenizer, model.system, [{ role: 'user', content: 'hello' }]);
    const usage = { inputTokens: input, outputTokens: tokenizer.count('Echo: hello'), estimated: true };
    expect(response.statusCode).toBe(200);
    expect(await storedUsage()).toEqual(usage);
    expect((response.json as { message: object }).message).not.toHaveProperty('usage');
    expect(session()).toEqual({
      reserved: input + usage.outputTokens,
      inputTokens: input,
      outputTokens: usage.outputTokens,
      turns: 1,
    });
  });

  it.each([
    ['session', { BUDGET_TOKENS_PER_SESSION: '10' }],
    ['ip', { BUDGET_TOKENS_PER_IP: '10' }],
    ['deployment', { BUDGET_TOKENS_PER_DAY: '150' }],
  ])('should refuse a turn over the %s budget with 429 before the model is called', async (scope, env) => {
    // Prepare
    const { send, model, fake } = setup(env);

    // Act
    const response = await send();

    // Assess
    expect(response.statusCode).toBe(429);
    expect(errorOf(response)).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      details: [{ path: 'budget', message: scope }],
      retry_after: SECONDS_TO_MIDNIGHT,
    });
    expect(response.headers['Retry-After']).toBe(String(SECONDS_TO_MIDNIGHT));
    expect(model.calls).toBe(0);
    expect(fake.conversations.sessions.get('session-1')).toBeUndefined();
  });

  it('should audit budget.exceeded once per scope key and day', async () => {
    // Prepare
    const { send, fake } = setup({ BUDGET_TOKENS_PER_SESSION: '10' });

    // Act
    await send();
    await send();
    fake.clock.advance(86_400_000);
    await send();

    // Assess
    const events = fake.auditStore.all().filter((e) => e.type === 'budget.exceeded');
    expect(events.map((e) => e.detail)).toEqual([{ scope: 'session' }, { scope: 'session' }]);
  });

  it('should give the reservation back when the rate limiter refuses the request', async () => {
    // Prepare
    const { send, session } = setup({ RATE_LIMIT_SESSION_MAX: '1' });
    await send();
    const afterFirst = session();

    // Act
    const limited = await send();

    // Assess
    expect(errorOf(limited).code).toBe('RATE_LIMIT_EXCEEDED');
    expect(session()).toEqual(afterFirst);
  });

  it('should reserve for the system prompt the model is sent, guardrail canary included', async () => {
    // Prepare: budgets of exactly the reservation without, and with, the canary the guardrail adds
    // (the same keys throughout: the canary derives from the signing secret).
    const keys = makeKeys();
    const probe = fakeRuntime({ env: SMALL, keys });
    const guarded = await guardedSystemPrompt(probe.runtime, probe.runtime.config.llm.systemPrompt);
    const tokenizer = await loadTokenizer();
    const withCanary = reservationFor(tokenizer, { ...probe.runtime.config.llm, systemPrompt: guarded }, 'hello');
    const without = await reservation(probe);
    expect(withCanary).toBeGreaterThan(without);

    // Act
    const short = await setup({ BUDGET_TOKENS_PER_SESSION: String(without) }, keys).send();
    const enough = await setup({ BUDGET_TOKENS_PER_SESSION: String(withCanary) }, keys).send();

    // Assess
    expect([short.statusCode, errorOf(short).code]).toEqual([429, 'BUDGET_EXCEEDED']);
    expect(enough.statusCode).toBe(200);
  });

  it('should reserve nothing for a body that fails validation', async () => {
    const { fake } = setup();
    const response = await invoke(buildChat(fake.runtime), chatRequest(fake.keys.widget, { sessionId: 'session-1' }));
    expect(response.statusCode).toBe(400);
    expect(fake.budgetStore.calls).toBe(0);
  });

  it('should charge nothing for an idempotent replay', async () => {
    // Prepare
    const { send, session, model } = setup();
    await send('hello', { 'Idempotency-Key': 'k-1' });
    const afterFirst = session();

    // Act
    const replay = await send('hello', { 'Idempotency-Key': 'k-1' });

    // Assess
    expect(replay.headers['Idempotent-Replayed']).toBe('true');
    expect(model.calls).toBe(1);
    expect(session()).toEqual(afterFirst);
  });

  it('should replay an answered turn even when the budget is spent since', async () => {
    // Prepare
    const { fake, send } = setup();
    const reserve = await reservation(fake);
    await send('hello', { 'Idempotency-Key': 'k-1' });
    await fake.runtime.budgets.reserve({ sessionId: 'session-1', clientKey: '203.0.113.7' }, 20000 - reserve);
    expect((await send('other')).statusCode).toBe(429);

    // Act
    const replay = await send('hello', { 'Idempotency-Key': 'k-1' });

    // Assess
    expect(replay.statusCode).toBe(200);
  });

  it.each([
    ['an HTTP error status (nothing processed)', new ModelError('http_status', 'x'), false],
    ['a timeout (the input may have been processed)', new ModelError('timeout', 'x'), true],
  ])('should settle a failed call after %s', async (_, failure, chargesInput) => {
    // Prepare
    const { send, session, model } = setup();
    model.failure = failure;

    // Act
    const response = await send('hello');

    // Assess
    const input = promptTokens(await loadTokenizer(), model.system, [{ role: 'user', content: 'hello' }]);
    expect(response.statusCode).toBe(502);
    expect(session()).toEqual({
      reserved: chargesInput ? input : 0,
      inputTokens: chargesInput ? input : 0,
      outputTokens: 0,
      turns: 0,
    });
  });

  it('should charge what the provider reports, not the estimate', async () => {
    const { send, session, model, storedUsage } = setup();
    model.report = { inputTokens: 321, outputTokens: 12 };
    const response = await send();
    expect(response.statusCode).toBe(200);
    expect(await storedUsage()).toEqual({
      inputTokens: 321,
      outputTokens: 12,
      estimated: false,
    });
    expect(session()).toMatchObject({ reserved: 333, inputTokens: 321, outputTokens: 12 });
  });

  it('should answer 503 when the budget store is down, without calling the model', async () => {
    const { send, fake, model } = setup();
    fake.budgetStore.down = true;
    const response = await send();
    expect(response.statusCode).toBe(503);
    expect(errorOf(response).code).toBe('SERVICE_UNAVAILABLE');
    expect(model.calls).toBe(0);
  });

  it('should refuse a streamed turn with a JSON 429 before the stream starts', async () => {
    // Prepare
    const { fake, model } = setup({ BUDGET_TOKENS_PER_SESSION: '10' });

    // Act
    const response = await invoke(buildStream(fake.runtime), {
      ...chatRequest(fake.keys.widget),
      path: '/v1/chat/stream',
    });

    // Assess
    expect(response.statusCode).toBe(429);
    expect(String(response.headers['Content-Type'])).toContain('application/json');
    expect(errorOf(response).code).toBe('BUDGET_EXCEEDED');
    expect(model.calls).toBe(0);
  });

  it('should give the reservation back when the reader leaves before the first event', async () => {
    // Prepare
    const { fake, session, model } = setup();
    const result = (await buildStream(fake.runtime)(
      apiEvent({ ...chatRequest(fake.keys.widget), path: '/v1/chat/stream' }),
      {
        awsRequestId: 'r',
      } as unknown as Context,
    )) as unknown as { statusCode: number; body: Readable };

    // Act
    result.body.destroy();
    await new Promise((resolve) => result.body.once('close', resolve));
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(model.calls).toBe(0);
    expect(session().reserved).toBe(0);
  });

  it('should give the reservation and the answer slot back when nobody reads the stream by the deadline', async () => {
    // Prepare: a Lambda deadline that leaves no time past the margin.
    const { fake, session, model } = setup();
    const context = { awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 } as unknown as Context;

    // Act
    const result = (await buildStream(fake.runtime)(
      apiEvent({ ...chatRequest(fake.keys.widget), path: '/v1/chat/stream' }),
      context,
    )) as unknown as { statusCode: number; body: Readable };
    await new Promise((resolve) => result.body.once('close', resolve));
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(model.calls).toBe(0);
    expect(session().reserved).toBe(0);
    expect(fake.conversations.sessions.get('session-1')?.nextSeq).toBe(2); // the user's message only
  });

  it('should settle a streamed turn to its estimated usage', async () => {
    const { fake, session } = setup();
    const response = await invoke(buildStream(fake.runtime), {
      ...chatRequest(fake.keys.widget),
      path: '/v1/chat/stream',
    });
    expect(response.statusCode).toBe(200);
    expect(session()).toMatchObject({ turns: 1, outputTokens: (await loadTokenizer()).count('Echo: hello') });
  });
});

describe('the chat pause', () => {
  it('should answer 503 CHAT_PAUSED on every chat route while paused, audit both switches, and answer again after resume', async () => {
    // Prepare
    const { fake, send, model } = setup();
    await send('hello', { 'Idempotency-Key': 'k-1' });

    // Act
    const paused = await invoke(
      buildPause(fake.runtime),
      admin(fake, 'POST', '/v1/admin/chat/pause', { body: '{"reason":"incident 42"}' }),
    );
    const chat = await send('again');
    const replay = await send('hello', { 'Idempotency-Key': 'k-1' });
    const stream = await invoke(buildStream(fake.runtime), {
      ...chatRequest(fake.keys.widget),
      path: '/v1/chat/stream',
    });
    const resumed = await invoke(buildResume(fake.runtime), admin(fake, 'DELETE', '/v1/admin/chat/pause'));
    const after = await send('after');

    // Assess
    expect([paused.statusCode, resumed.statusCode]).toEqual([204, 204]);
    for (const response of [chat, replay, stream]) {
      expect(response.statusCode).toBe(503);
      expect(errorOf(response).code).toBe('CHAT_PAUSED');
    }
    expect(after.statusCode).toBe(200);
    expect(model.calls).toBe(2);
    const types = fake.auditStore.all().map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['chat.paused', 'chat.resumed']));
    expect(fake.auditStore.all().find((e) => e.type === 'chat.paused')?.detail).toEqual({ reason: 'incident 42' });
  });

  it('should give the reservation back when chat is paused', async () => {
    const { fake, send, session } = setup();
    await fake.runtime.chatPause.pause('incident', 'admin');
    await send();
    expect(session().reserved).toBe(0);
  });

  it.each([
    ['no body', undefined],
    ['an empty reason', '{"reason":""}'],
    ['an unknown field', '{"reason":"x","until":"tomorrow"}'],
  ])('should refuse a pause with %s', async (_, body) => {
    const { fake } = setup();
    const response = await invoke(buildPause(fake.runtime), admin(fake, 'POST', '/v1/admin/chat/pause', { body }));
    expect(response.statusCode).toBe(400);
    expect(fake.pauseStore.state).toBeUndefined();
  });
});

describe('GET /v1/admin/usage', () => {
  it('should show the usage the turns were charged, with usd when prices are set', async () => {
    // Prepare
    const { fake, send, model } = setup({ MODEL_PRICE_INPUT_PER_MTOK: '0.15', MODEL_PRICE_OUTPUT_PER_MTOK: '0.6' });
    model.report = { inputTokens: 1000, outputTokens: 500 };
    await send();
    await send();

    // Act
    const response = await invoke(
      buildUsage(fake.runtime),
      admin(fake, 'GET', '/v1/admin/usage', { query: { day: DAY } }),
    );

    // Assess
    expect(response.json).toEqual({
      day: DAY,
      scope: 'deployment',
      inputTokens: 2000,
      outputTokens: 1000,
      turns: 2,
      budget: 2_000_000,
      remaining: 1_997_000,
      usd: 0.0009,
    });
  });

  it.each([
    ['a session', { sessionId: 'session-1' }, 'session', 20000],
    ['a user', { userId: 'nobody' }, 'user', 100000],
  ])('should show %s', async (_, query, scope, budget) => {
    const { fake, send } = setup();
    await send();
    const response = await invoke(buildUsage(fake.runtime), admin(fake, 'GET', '/v1/admin/usage', { query }));
    expect(response.json).toMatchObject({ day: DAY, scope, budget });
    expect(response.json).not.toHaveProperty('usd');
  });

  it.each([
    ['a bad day', { day: '2026-13-01' }],
    ['both userId and sessionId', { userId: 'u', sessionId: 's' }],
    ['an unknown parameter', { scope: 'all' }],
  ])('should refuse %s', async (_, query) => {
    const { fake } = setup();
    const response = await invoke(buildUsage(fake.runtime), admin(fake, 'GET', '/v1/admin/usage', { query }));
    expect(response.statusCode).toBe(400);
  });

  it('should show the usage on the answer in the admin read of a conversation', async () => {
    const { fake, send } = setup();
    await send();
    const response = await invoke(
      buildGetConversation(fake.runtime),
      admin(fake, 'GET', '/v1/admin/conversations/session-1'),
    );
    const messages = (response.json as { messages: Array<{ role: string; usage?: { estimated: boolean } }> }).messages;
    expect(messages.find((m) => m.role === 'assistant')?.usage?.estimated).toBe(true);
  });
});
