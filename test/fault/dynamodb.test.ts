/**
 * DynamoDB throttled and slow (test/e2e/dynamodb-down.test.ts covers unreachable): the local
 * server talks to dynalite through a fault-injecting proxy. Throttling
 * (`ProvisionedThroughputExceededException` after the SDK's retries) and calls slower than the
 * client's request timeout fail closed with a bounded 503; slow calls under the timeout only
 * slow the answer down. Every turn that answered 200 is stored exactly once, turns that failed
 * leave no messages behind, and the server serves again by itself once the fault clears.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { http, postJson, type HttpResponse } from '../helpers/http.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

/** The bound on one answer while calls are throttled (the SDK's retries with back-off included). */
const MAX_ANSWER_MS = 15_000;
/** The bound on one answer while calls outlast the client's request timeout (API Gateway gives up at 29 s). */
const SLOW_ANSWER_MS = 25_000;
/** Longer than the document client's 3 s request timeout. */
const PAST_TIMEOUT_MS = 3_500;

const UNAVAILABLE = {
  code: 'SERVICE_UNAVAILABLE',
  message: 'The service is temporarily unavailable. Try again later.',
};

interface Conversation {
  conversation: { messageCount: number };
  messages: Array<{ role: string; content: string }>;
}

describe('with DynamoDB throttled or slow', () => {
  let dynalite: Server;
  let proxy: FaultProxy;
  let server: RunningServer;

  const chat = (sessionId: string, message: string) =>
    postJson(`${server.url}/v1/chat`, { sessionId, message }, { 'X-Widget-Api-Key': server.secrets.widgetKey });
  const admin = (path: string) =>
    http(`${server.url}${path}`, { headers: { Authorization: `Bearer ${server.secrets.adminKey}` } });
  const mint = () =>
    postJson(
      `${server.url}/v1/tokens`,
      { userId: 'fault-user' },
      { Authorization: `Bearer ${server.secrets.serverKey}` },
    );
  /** The stored turns of a session, as `role:content`, and its message count. */
  const storedTurns = async (sessionId: string) => {
    const res = await admin(`/v1/admin/conversations/${sessionId}?limit=100`);
    expect(res.status).toBe(200);
    const body = res.json as Conversation;
    return {
      messages: body.messages.map((m) => `${m.role}:${m.content}`),
      messageCount: body.conversation.messageCount,
    };
  };
  /** Runs `request`, returning its response and how long it took. */
  const timed = async (request: () => Promise<HttpResponse>) => {
    const started = Date.now();
    const res = await request();
    return { status: res.status, json: res.json, ms: Date.now() - started };
  };

  beforeAll(async () => {
    dynalite = (createRequire(import.meta.url)('dynalite') as (o: Record<string, unknown>) => Server)({
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
    });
    await new Promise<void>((resolve) => dynalite.listen(0, '127.0.0.1', resolve));
    const address = dynalite.address();
    proxy = await startFaultProxy(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    server = await startServer({ DYNAMODB_ENDPOINT: proxy.url });
    await server.waitForOutput(/"tables ready"/);
  });
  afterEach(() => {
    proxy.fault = { kind: 'none' };
  });
  afterAll(async () => {
    await server.stop();
    await proxy.close();
    await new Promise<void>((resolve) => dynalite.close(() => resolve()));
  });

  it(
    'It should fail closed with a bounded 503 while every call is throttled, store nothing, and recover when it stops',
    async () => {
      // Prepare
      expect((await chat('throttled', 'before')).status).toBe(200);
      proxy.fault = { kind: 'throttle' };

      // Act
      const during = await Promise.all([
        timed(() => chat('throttled', 'during')),
        timed(() => admin('/v1/admin/conversations')),
        timed(mint),
      ]);
      const health = await http(`${server.url}/health`);
      proxy.fault = { kind: 'none' };
      const after = await chat('throttled', 'after');

      // Assess: the SDK retried the throttled calls, then every request failed closed in time
      expect(proxy.faulted.get('UpdateItem') ?? 0).toBeGreaterThanOrEqual(3);
      expect(during.map((r) => r.status)).toEqual([503, 503, 503]);
      for (const r of during) {
        expect(r.json).toEqual({ error: UNAVAILABLE });
        expect(r.ms).toBeLessThan(MAX_ANSWER_MS);
      }
      expect(health.status).toBe(200);
      expect(after.status).toBe(200);
      expect(await storedTurns('throttled')).toEqual({
        messages: ['user:before', 'assistant:Echo: before', 'user:after', 'assistant:Echo: after'],
        messageCount: 4,
      });
    },
    MAX_ANSWER_MS * 2,
  );

  it(
    'It should answer 503 when only message writes are throttled, keep no message of that turn, and recover',
    async () => {
      // Prepare
      expect((await chat('throttled-writes', 'before')).status).toBe(200);
      proxy.fault = { kind: 'throttle', operations: ['PutItem'] };

      // Act
      const during = await timed(() => chat('throttled-writes', 'during'));
      proxy.fault = { kind: 'none' };
      const after = await chat('throttled-writes', 'after');

      // Assess: no half turn is visible, nothing is duplicated, and the failed turn's reserved
      // slots were given back, so the count is the number of messages stored
      expect(during.status).toBe(503);
      expect(during.ms).toBeLessThan(MAX_ANSWER_MS);
      expect(after.status).toBe(200);
      expect(await storedTurns('throttled-writes')).toEqual({
        messages: ['user:before', 'assistant:Echo: before', 'user:after', 'assistant:Echo: after'],
        messageCount: 4,
      });
    },
    MAX_ANSWER_MS * 2,
  );

  it('It should only be slower, and store each turn once, when calls are slow but within the timeout', async () => {
    // Prepare
    proxy.fault = { kind: 'delay', ms: 200 };

    // Act
    const responses = [await chat('slow', 'one'), await chat('slow', 'two')];

    // Assess
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    proxy.fault = { kind: 'none' };
    expect(await storedTurns('slow')).toEqual({
      messages: ['user:one', 'assistant:Echo: one', 'user:two', 'assistant:Echo: two'],
      messageCount: 4,
    });
  });

  it(
    'It should fail closed with a bounded 503 when calls outlast the request timeout, and recover when they speed up',
    async () => {
      // Prepare
      expect((await chat('too-slow', 'before')).status).toBe(200);
      proxy.fault = { kind: 'delay', ms: PAST_TIMEOUT_MS };

      // Act
      const during = await Promise.all([
        timed(() => chat('too-slow', 'during')),
        timed(() => admin('/v1/admin/conversations')),
      ]);
      const health = await http(`${server.url}/health`);
      proxy.fault = { kind: 'none' };
      const after = await chat('too-slow', 'after');

      // Assess
      expect(during.map((r) => r.status)).toEqual([503, 503]);
      for (const r of during) {
        expect(r.json).toEqual({ error: UNAVAILABLE });
        expect(r.ms).toBeLessThan(SLOW_ANSWER_MS);
      }
      expect(health.status).toBe(200);
      expect(after.status).toBe(200);
      expect((await storedTurns('too-slow')).messages).toEqual([
        'user:before',
        'assistant:Echo: before',
        'user:after',
        'assistant:Echo: after',
      ]);
    },
    SLOW_ANSWER_MS * 2,
  );
});
