/**
 * Model spend from outside (design §12), on DynamoDB Local: an exact deployment budget under
 * concurrent chats from many addresses, settlement giving unused tokens back, the streamed route
 * refusing with JSON before `start`, the pause switch across two server instances sharing one
 * database, a budget store outage failing closed, and the usage API showing what the model reported.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynamoDb, type EmbeddedDynamoDb } from '../../local/dynamodb.js';
import { loadTokenizer } from '../../lambdas/lib/llm/tokenizer.js';
import { reservationFor } from '../../lambdas/lib/metering.js';
import { DEFAULT_USAGE, startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { errorOf, http, openEventStream, type HttpResponse } from '../helpers/http.js';
import { startServer, testSecrets, type RunningServer, type TestSecrets } from '../helpers/local-server.js';
import { deriveCanary, withCanary } from '../../lambdas/lib/guardrails/leak.js';

const SYSTEM_PROMPT = 'You are a helpful assistant.';
const CAPS = { CONTEXT_MAX_TOKENS: '200', MODEL_MAX_OUTPUT_TOKENS: '100', SYSTEM_PROMPT };
const MESSAGE = 'how much does this cost?';

const chat = (server: RunningServer, sessionId: string, message = MESSAGE, localAddress = '127.0.0.1') =>
  http(`${server.url}/v1/chat`, {
    method: 'POST',
    localAddress,
    headers: { 'Content-Type': 'application/json', 'X-Widget-Api-Key': server.secrets.widgetKey },
    body: JSON.stringify({ sessionId, message }),
  });

const admin = (server: RunningServer, path: string, method = 'GET', body?: unknown) =>
  http(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${server.secrets.adminKey}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const today = () => new Date().toISOString().slice(0, 10);

/** One turn's reservation on a server with `secrets`: its system prompt carries the guardrail's canary. */
async function reservation(secrets: TestSecrets, message = MESSAGE): Promise<number> {
  const systemPrompt = withCanary(SYSTEM_PROMPT, deriveCanary(secrets.signingSecret));
  return reservationFor(await loadTokenizer(), { systemPrompt, contextMaxTokens: 200, maxOutputTokens: 100 }, message);
}

/** Waits until `condition` holds; fails after `withinMs`, saying what `state` says. */
async function waitFor(condition: () => boolean, withinMs: number, state: () => string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms: ${state()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls `request` until `done` holds or `withinMs` has passed; returns the last response. */
async function until(
  request: () => Promise<HttpResponse>,
  done: (res: HttpResponse) => boolean,
  withinMs: number,
): Promise<HttpResponse> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const res = await request();
    if (done(res) || Date.now() > deadline) return res;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('a deployment budget under concurrent chats (OpenAI-compatible upstream that reports usage)', () => {
  const N = 4;
  let upstream: FakeOpenAi;
  let server: RunningServer;

  beforeAll(async () => {
    upstream = await startFakeOpenAi();
    const secrets = testSecrets();
    server = await startServer(
      {
        ...CAPS,
        LLM_PROVIDER: 'openai',
        OPENAI_BASE_URL: upstream.baseUrl,
        OPENAI_API_KEY: 'sk-test-budget-key',
        BUDGET_TOKENS_PER_DAY: String(N * (await reservation(secrets))),
        BUDGET_DEPLOYMENT_SHARDS: '1',
      },
      secrets,
    );
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it('should let exactly N of 3N concurrent chats from different addresses reach the model, refuse the rest, and give unused tokens back', async () => {
    // Prepare: every answer is held until the refusals are in, so no settlement frees tokens early.
    let release = () => undefined as void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    upstream.behave({ kind: 'answer', deltas: ['Four', ' tokens'], hold });

    // Act
    const answered: number[] = [];
    const pending = Array.from({ length: 3 * N }, (_, i) =>
      chat(server, `budget-${i}`, MESSAGE, `127.0.0.${i + 2}`).then((res) => {
        answered.push(res.status);
        return res;
      }),
    );
    await waitFor(
      // Every request has either been answered or is held at the model.
      () => answered.length + upstream.requests.length === 3 * N,
      30_000,
      () => `answered ${JSON.stringify(answered)}, ${upstream.requests.length} at the model`,
    );
    release();
    const responses = await Promise.all(pending);
    const again = await chat(server, 'budget-after', MESSAGE, '127.0.0.100');

    // Assess
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(N);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2 * N);
    for (const res of responses.filter((r) => r.status === 429)) {
      expect(errorOf(res)).toMatchObject({
        code: 'BUDGET_EXCEEDED',
        details: [{ path: 'budget', message: 'deployment' }],
      });
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(86400);
    }
    expect(again.status).toBe(200);
    expect(upstream.requests).toHaveLength(N + 1);
    expect(upstream.requests.every((r) => r.body.max_tokens === 100)).toBe(true);
  });

  it('should show in the usage API exactly the usage the upstream reported', async () => {
    // Act
    const usage = await admin(server, `/v1/admin/usage?day=${today()}`);
    const conversation = await admin(server, '/v1/admin/conversations/budget-after');

    // Assess
    const turns = N + 1;
    expect(usage.json).toMatchObject({
      scope: 'deployment',
      inputTokens: turns * DEFAULT_USAGE.prompt_tokens,
      outputTokens: turns * DEFAULT_USAGE.completion_tokens,
      turns,
    });
    const answer = (conversation.json as { messages: Array<{ role: string; usage?: unknown }> }).messages.find(
      (m) => m.role === 'assistant',
    );
    expect(answer?.usage).toEqual({
      inputTokens: DEFAULT_USAGE.prompt_tokens,
      outputTokens: DEFAULT_USAGE.completion_tokens,
      estimated: false,
    });
  });

  it('should store the usage a stream reports in its last chunk', async () => {
    // Prepare
    upstream.behave({
      kind: 'answer',
      deltas: ['streamed', ' answer'],
      usage: { prompt_tokens: 31, completion_tokens: 2 },
    });

    // Act
    const stream = await openEventStream(
      `${server.url}/v1/chat/stream`,
      { sessionId: 'budget-stream', message: MESSAGE },
      { 'X-Widget-Api-Key': server.secrets.widgetKey },
    );
    const events = await stream.rest();
    const conversation = await admin(server, '/v1/admin/conversations/budget-stream');

    // Assess
    expect(events.at(-1)?.type).toBe('done');
    expect(upstream.requests.at(-1)?.body.stream_options).toEqual({ include_usage: true });
    const answer = (conversation.json as { messages: Array<{ role: string; usage?: unknown }> }).messages.find(
      (m) => m.role === 'assistant',
    );
    expect(answer?.usage).toEqual({ inputTokens: 31, outputTokens: 2, estimated: false });
  });
});

describe('budgets and the pause on two instances sharing one DynamoDB Local (echo model)', () => {
  let dataDir: string;
  let engine: EmbeddedDynamoDb;
  let proxy: FaultProxy;
  let first: RunningServer;
  let second: RunningServer;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'chat-widget-budgets-'));
    engine = await startDynamoDb('memory', dataDir);
    proxy = await startFaultProxy(engine.endpoint);
    const secrets = testSecrets();
    const env = { ...CAPS, BUDGET_TOKENS_PER_SESSION: String(await reservation(secrets)) };
    first = await startServer({ ...env, DYNAMODB_ENDPOINT: engine.endpoint }, secrets);
    await first.waitForOutput(/"tables ready"/);
    second = await startServer({ ...env, DYNAMODB_ENDPOINT: proxy.url }, first.secrets);
    await second.waitForOutput(/"tables ready"/);
  }, 180_000);

  afterEach(() => {
    proxy.fault = { kind: 'none' };
  });

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await proxy?.close();
    await engine?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('should refuse a streamed turn over the session budget with a JSON 429 before start', async () => {
    // Prepare: the first turn takes the whole session budget for its reservation, then settles.
    expect((await chat(first, 'session-budget')).status).toBe(200);

    // Act
    const stream = await openEventStream(
      `${second.url}/v1/chat/stream`,
      { sessionId: 'session-budget', message: MESSAGE },
      { 'X-Widget-Api-Key': second.secrets.widgetKey },
    );
    const body = await stream.rest().catch(() => []);

    // Assess
    expect(stream.status).toBe(429);
    expect(String(stream.headers['content-type'])).toContain('application/json');
    expect(body).toEqual([]);
  });

  it('should answer a stranger to a session whose budget is spent 404, as for any session it does not own', async () => {
    // Prepare: the anonymous owner's turn above spent the session's budget; a verified user comes.
    const minted = await http(`${first.url}/v1/tokens`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${first.secrets.serverKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId: 'stranger' }),
    });
    const { token } = minted.json as { token: string };

    // Act: the budget is kept per owner, so the stranger's turn is refused by ownership, not by budget.
    const res = await http(`${first.url}/v1/chat`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Widget-Api-Key': first.secrets.widgetKey,
        Authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ sessionId: 'session-budget', message: MESSAGE }),
    });
    const usage = await admin(first, `/v1/admin/usage?day=${today()}&sessionId=session-budget`);

    // Assess
    expect([res.status, errorOf(res).code]).toEqual([404, 'NOT_FOUND']);
    expect(usage.json).toMatchObject({ scope: 'session', turns: 1 });
  });

  it('should mark the echo usage as estimated', async () => {
    const conversation = await admin(first, '/v1/admin/conversations/session-budget');
    const answer = (
      conversation.json as { messages: Array<{ role: string; usage?: { estimated: boolean } }> }
    ).messages.find((m) => m.role === 'assistant');
    expect(answer?.usage?.estimated).toBe(true);
  });

  it('should answer 503 CHAT_PAUSED on both instances within 5 s of a pause, and 200 again after resume', async () => {
    // Prepare: the second instance has just read the switch.
    expect((await chat(second, 'pause-1')).status).toBe(200);

    // Act
    const paused = await admin(first, '/v1/admin/chat/pause', 'POST', { reason: 'incident drill' });
    const onFirst = await chat(first, 'pause-2');
    const onSecond = await until(
      () => chat(second, 'pause-3'),
      (res) => res.status === 503,
      5000,
    );
    const resumed = await admin(first, '/v1/admin/chat/pause', 'DELETE');
    const backOnSecond = await until(
      () => chat(second, 'pause-4'),
      (res) => res.status === 200,
      5000,
    );

    // Assess
    expect([paused.status, resumed.status]).toEqual([204, 204]);
    for (const res of [onFirst, onSecond]) {
      expect(res.status).toBe(503);
      expect(errorOf(res).code).toBe('CHAT_PAUSED');
    }
    expect(backOnSecond.status).toBe(200);
    expect((await chat(first, 'pause-5')).status).toBe(200);
    const audit = await admin(first, '/v1/admin/audit?type=chat.paused');
    expect((audit.json as { items: Array<{ detail: unknown }> }).items[0]?.detail).toEqual({
      reason: 'incident drill',
    });
  });

  it('should fail closed with 503 when the budget counters cannot be written', async () => {
    // Prepare
    proxy.fault = { kind: 'throttle', operations: ['UpdateItem'], bodyIncludes: 'BUDGET#' };

    // Act
    const res = await chat(second, 'budget-down');

    // Assess
    expect(res.status).toBe(503);
    expect(errorOf(res).code).toBe('SERVICE_UNAVAILABLE');
    expect(proxy.faulted.get('UpdateItem') ?? 0).toBeGreaterThan(0);
  });
});
