/**
 * DynamoDB calls and sequential round-trip depth per request type, and Secrets Manager calls per
 * warm request. The real handlers run on a real runtime (`createRuntime`) whose document client
 * talks to DynamoDB Local (dynalite where Java is missing) on loopback through an SDK middleware that records every command's start and
 * end; secrets come from `SecretsManagerSource` over a `SecretsManagerClient` mocked with
 * aws-sdk-client-mock, which counts every command sent.
 *
 * Depth: calls that overlap in time are one "wave" (they run in parallel); calls that start after
 * another ended are sequential. The depth is the length of the longest chain of calls each of
 * which started after the previous one had ended. By Mirsky's theorem that equals the least number
 * of waves (sets of calls all in flight together) the request's calls can be split into, i.e. the
 * number of DynamoDB round trips a request waits for one after the other. Calls still running or
 * started after the handler answered (fire-and-forget audit writes) are counted apart. Chats run
 * with every token budget on (design §12), and once more with them off for comparison.
 */
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import jwt from 'jsonwebtoken';
import { loadDynamoDbClient } from '../lambdas/lib/clients.js';
import { loadConfig } from '../lambdas/lib/config.js';
import { createLogger } from '../lambdas/lib/logger.js';
import { createRuntime } from '../lambdas/lib/runtime.js';
import { SecretsManagerSource, secretIdsFor } from '../lambdas/lib/secrets/secrets-manager.js';
import { SECRET_NAMES } from '../lambdas/lib/secrets.js';
import { CONVERSATIONS_SCHEMA, SECURITY_SCHEMA } from '../lambdas/lib/stores/table-schema.js';
import { ensureTables, startDynamoDb } from '../local/dynamodb.js';
import { HANDLERS } from '../local/handlers.js';
import { apiEvent, makeKeys, type EventInput } from '../test/helpers/fake-runtime.js';

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const PREFIX = 'bench/';

/** One recorded DynamoDB command. */
interface Call {
  readonly command: string;
  readonly start: number;
  end: number | undefined;
}

/**
 * Splits calls into waves: each call's wave is the length of the longest chain of calls, each
 * starting after the previous one ended, that ends with it. Calls in one wave are all in flight
 * together; the number of waves is the sequential depth.
 */
export function waves<T extends { start: number; end: number }>(calls: readonly T[]): T[][] {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  const level: number[] = [];
  sorted.forEach((call, i) => {
    let before = 0;
    for (let j = 0; j < i; j += 1) {
      if ((sorted[j] as T).end <= call.start) before = Math.max(before, level[j] as number);
    }
    level.push(before + 1);
  });
  const out: T[][] = [];
  sorted.forEach((call, i) => (out[(level[i] as number) - 1] ??= []).push(call));
  return out;
}

/** `GetItem+UpdateItem×2`: the commands of one wave, counted by name. */
function describeWave(wave: readonly Call[]): string {
  const counts = new Map<string, number>();
  for (const call of wave) counts.set(call.command, (counts.get(call.command) ?? 0) + 1);
  return [...counts].map(([command, n]) => `${command.replace(/Command$/, '')}${n > 1 ? `×${n}` : ''}`).join('+');
}

export interface RequestCalls {
  readonly request: string;
  readonly status: number;
  /** DynamoDB commands sent before the answer, by name. */
  readonly commands: Record<string, number>;
  readonly calls: number;
  readonly depth: number;
  /** The commands of each wave, in order (`UpdateItem+Query` ran in parallel). */
  readonly waves: readonly string[];
  /** Commands started or still running after the answer (fire-and-forget writes). */
  readonly background: number;
}

export interface CallsResult {
  readonly perRequest: readonly RequestCalls[];
  /** Secrets Manager commands sent by the first request of a cold runtime. */
  readonly secretsManagerCold: number;
  /** Secrets Manager commands per request over the warm requests (within the cache TTL). */
  readonly secretsManagerPerWarmRequest: number;
  readonly warmRequests: number;
}

const context = (): Context =>
  ({ functionName: 'bench', awsRequestId: 'bench', callbackWaitsForEmptyEventLoop: false }) as unknown as Context;

/** Measures every request type `repeat` times (the last, warm one is reported). */
export async function benchCalls(repeat: number): Promise<CallsResult> {
  // DynamoDB Local (the real engine, with transactions) when Java is present, else dynalite.
  const engine = await startDynamoDb('memory', tmpdir());
  const { endpoint } = engine;
  const secretsManager = mockClient(SecretsManagerClient);
  try {
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      SECRETS_PREFIX: PREFIX,
      RATE_LIMIT_MAX_REQUESTS: '1000000',
      RATE_LIMIT_SESSION_MAX: '1000000',
      RATE_LIMIT_USER_MAX: '1000000',
      TOKEN_RATE_LIMIT_MAX: '1000000',
      ADMIN_RATE_LIMIT_MAX: '1000000',
      // Budgets on (every scope), large enough that the repeated rounds never exhaust them.
      BUDGET_TOKENS_PER_SESSION: '1000000000',
      BUDGET_TOKENS_PER_USER: '1000000000',
      BUDGET_TOKENS_PER_IP: '1000000000',
      BUDGET_TOKENS_PER_DAY: '1000000000',
    });
    // The same deployment with every budget off, for comparison.
    const configOff = loadConfig({
      LOG_LEVEL: 'silent',
      SECRETS_PREFIX: PREFIX,
      RATE_LIMIT_MAX_REQUESTS: '1000000',
      RATE_LIMIT_SESSION_MAX: '1000000',
      BUDGET_TOKENS_PER_SESSION: '0',
      BUDGET_TOKENS_PER_USER: '0',
      BUDGET_TOKENS_PER_IP: '0',
      BUDGET_TOKENS_PER_DAY: '0',
    });
    const tableClient = new DynamoDBClient({ endpoint, credentials: CREDENTIALS, region: 'us-east-1' });
    await ensureTables(tableClient, [
      { name: config.conversationsTable, schema: CONVERSATIONS_SCHEMA },
      { name: config.securityTable, schema: SECURITY_SCHEMA },
    ]);
    tableClient.destroy();

    const keys = makeKeys();
    const values = {
      'widget-api-key': keys.widget,
      'admin-api-key': keys.admin,
      'server-api-key': keys.server,
      'widget-signing-secret': keys.signing,
      'webhook-signing-secret': keys.webhook,
    };
    const ids = secretIdsFor(PREFIX);
    secretsManager.on(BatchGetSecretValueCommand).resolves({
      SecretValues: SECRET_NAMES.map((name) => ({
        Name: ids[name],
        VersionId: `${name}-v1`,
        SecretString: values[name],
        CreatedDate: new Date(),
      })),
    });
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'no AWSPREVIOUS', $metadata: {} }));

    let log: Call[] = [];
    const dynamoDbClient = await loadDynamoDbClient({ endpoint, credentials: CREDENTIALS, region: 'us-east-1' });
    // The document client the runtime builds shares this client's middleware stack.
    dynamoDbClient.middlewareStack.add(
      (next, ctx) => async (args) => {
        const call: Call = { command: ctx.commandName ?? '?', start: performance.now(), end: undefined };
        log.push(call);
        try {
          return await next(args);
        } finally {
          call.end = performance.now();
        }
      },
      { step: 'initialize', name: 'benchCallRecorder', priority: 'high' },
    );
    const runtime = createRuntime({
      config,
      logger: createLogger('silent'),
      metrics: false,
      dynamoDbClient,
      secretSource: new SecretsManagerSource({ secretIds: ids, client: new SecretsManagerClient({}) }),
    });
    const handlers = Object.fromEntries(Object.entries(HANDLERS).map(([n, d]) => [n, d.build(runtime)]));
    const runtimeOff = createRuntime({
      config: configOff,
      logger: createLogger('silent'),
      metrics: false,
      dynamoDbClient,
      secretSource: new SecretsManagerSource({ secretIds: ids, client: new SecretsManagerClient({}) }),
    });
    handlers['post-chat (budgets off)'] = HANDLERS['post-chat'].build(runtimeOff);
    // The second runtime is another warm instance: its own cold load is not a warm request's.
    await runtimeOff.secrets.get();

    const now = Math.floor(Date.now() / 1000);
    const token = jwt.sign({ sub: 'bench-user', iat: now, exp: now + 3600 }, keys.signing, { algorithm: 'HS256' });
    const json = { 'Content-Type': 'application/json' };
    const chat = (sessionId: string, extra: Record<string, string> = {}): EventInput => ({
      method: 'POST',
      path: '/v1/chat',
      headers: { ...json, 'X-Widget-Api-Key': keys.widget, ...extra },
      body: JSON.stringify({ sessionId, message: 'How do I reset my password?' }),
    });
    const types: Array<[string, string, EventInput]> = [
      ['POST /v1/chat (no token)', 'post-chat', chat('bench-anonymous')],
      ['POST /v1/chat (no token, budgets off)', 'post-chat (budgets off)', chat('bench-anonymous-off')],
      ['POST /v1/chat (token)', 'post-chat', chat('bench-user-session', { Authorization: `Bearer ${token}` })],
      [
        'POST /v1/chat/stream (token)',
        'post-chat-stream',
        { ...chat('bench-user-session', { Authorization: `Bearer ${token}` }), path: '/v1/chat/stream' },
      ],
      [
        'POST /v1/tokens',
        'mint-token',
        {
          method: 'POST',
          path: '/v1/tokens',
          headers: { ...json, Authorization: `Bearer ${keys.server}` },
          body: JSON.stringify({ userId: 'bench-user' }),
        },
      ],
      [
        'GET /v1/sessions/{id}/messages (token)',
        'get-session-messages',
        {
          method: 'GET',
          path: '/v1/sessions/bench-user-session/messages',
          headers: { Authorization: `Bearer ${token}`, 'X-Widget-Api-Key': keys.widget },
        },
      ],
      [
        'GET /v1/admin/conversations',
        'admin-list-conversations',
        { method: 'GET', path: '/v1/admin/conversations', headers: { Authorization: `Bearer ${keys.admin}` } },
      ],
      [
        'GET /v1/admin/usage (32 deployment shards)',
        'admin-get-usage',
        { method: 'GET', path: '/v1/admin/usage', headers: { Authorization: `Bearer ${keys.admin}` } },
      ],
      [
        'GET /v1/admin/conversations/{id}',
        'admin-get-conversation',
        {
          method: 'GET',
          path: '/v1/admin/conversations/bench-anonymous',
          headers: { Authorization: `Bearer ${keys.admin}` },
        },
      ],
    ];

    const drain = async () => {
      for (let i = 0; i < 2000 && log.some((c) => c.end === undefined); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    };
    const measure = async (name: string, handler: string, event: APIGatewayProxyEvent): Promise<RequestCalls> => {
      await drain();
      log = [];
      const run = handlers[handler];
      if (!run) throw new Error(`no handler ${handler}`);
      const response = await run(event, context());
      // A streamed answer is answered once its last event is read.
      const body: unknown = (response as { body?: unknown }).body;
      if (body instanceof Readable) for await (const chunk of body) void chunk;
      const answeredAt = performance.now();
      await drain();
      const onPath = log.filter((c) => c.start < answeredAt && c.end !== undefined && c.end <= answeredAt);
      const split = waves(onPath as Array<Call & { end: number }>);
      const commands: Record<string, number> = {};
      for (const call of onPath) commands[call.command] = (commands[call.command] ?? 0) + 1;
      return {
        request: name,
        status: response.statusCode,
        commands,
        calls: onPath.length,
        depth: split.length,
        waves: split.map(describeWave),
        background: log.length - onPath.length,
      };
    };

    const perRequest: RequestCalls[] = [];
    let secretsManagerCold = 0;
    let warmRequests = 0;
    let warmSecretCalls = 0;
    let first = true;
    for (let round = 0; round < repeat; round += 1) {
      for (const [name, handler, input] of types) {
        const before = secretsManager.calls().length;
        const result = await measure(name, handler, apiEvent(input));
        const secretCalls = secretsManager.calls().length - before;
        if (first) secretsManagerCold = secretCalls;
        else {
          warmRequests += 1;
          warmSecretCalls += secretCalls;
        }
        first = false;
        if (round === repeat - 1) perRequest.push(result);
        if (result.status >= 400) throw new Error(`${name} answered ${result.status}: the benchmark needs a success`);
      }
    }
    dynamoDbClient.destroy();
    return {
      perRequest,
      secretsManagerCold,
      secretsManagerPerWarmRequest: warmSecretCalls / warmRequests,
      warmRequests,
    };
  } finally {
    secretsManager.restore();
    await engine.stop();
  }
}
