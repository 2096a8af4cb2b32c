/**
 * A complete `Runtime` made of in-memory fakes (secrets, stores, model, clock), and a factory of
 * API Gateway REST proxy events, so unit tests can drive the real Middy chain without AWS.
 */
import { text } from 'node:stream/consumers';
import { IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError } from '@aws-lambda-powertools/idempotency';
import type { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ApiKeyVerifier } from '../../lambdas/lib/api-keys.js';
import { AuditLog } from '../../lambdas/lib/audit.js';
import { loadConfig } from '../../lambdas/lib/config.js';
import type { LambdaHandler } from '../../lambdas/http/handler.js';
import { EchoModel } from '../../lambdas/lib/llm/echo.js';
import type { ModelProvider } from '../../lambdas/lib/llm/index.js';
import type { Guardrail } from '../../lambdas/lib/guardrails/index.js';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { createLogger, type Logger } from '../../lambdas/lib/logger.js';
import { matchRoute } from '../../lambdas/http/routes.js';
import type { Runtime } from '../../lambdas/lib/runtime.js';
import { Budgets } from '../../lambdas/lib/budget.js';
import { ChatPause } from '../../lambdas/lib/chat-pause.js';
import { InMemoryBudgetStore, InMemoryPauseStore } from './fake-budget-store.js';
import type { SpentChallengeStore } from '../../lambdas/lib/visitors/redeem.js';
import { generateSecret } from '../../lambdas/lib/secret-strength.js';
import {
  CachingSecretProvider,
  type SecretEntry,
  type SecretName,
  type SecretSnapshot,
  type SecretSource,
} from '../../lambdas/lib/secrets.js';
import type { AuditEvent, AuditRecord, AuditStore, AuditType } from '../../lambdas/lib/audit-events.js';
import type {
  ChatMessage,
  ConversationStore,
  ConversationSummary,
  ClaimInput,
  ClaimWithMessageInput,
  StoredMessage,
} from '../../lambdas/lib/conversation.js';
import { ownerValue } from '../../lambdas/lib/conversation.js';
import { KeyLimitError, NotFoundError } from '../../lambdas/lib/errors.js';
import type { ApiKeyRecord, ApiKeyStore } from '../../lambdas/lib/api-keys.js';
import type { Page, PagePosition } from '../../lambdas/lib/page.js';
import type { RevocationStore } from '../../lambdas/lib/revocation.js';
import type { CounterRef, RateLimitStore } from '../../lambdas/lib/rate-limiter.js';
import { RateLimiter } from '../../lambdas/lib/rate-limiter.js';
import { iso } from '../../lambdas/lib/time.js';

/** 2025-01-15T12:00:00.000Z: every test starts at the same instant. */
export const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

/** A clock that only moves when a test moves it. */
export class FakeClock {
  #now: number;
  constructor(start: number = T0) {
    this.#now = start;
  }
  /** The current fake time, in epoch milliseconds (pass `clock.now` where a `() => number` is expected). */
  readonly now = (): number => this.#now;
  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.#now += ms;
  }
  /** Sets the time to `ms`. */
  set(ms: number): void {
    this.#now = ms;
  }
}

/** The four credentials of a fake deployment, strong and distinct. */
export interface TestKeys {
  readonly widget: string;
  readonly admin: string;
  readonly server: string;
  readonly signing: string;
  readonly webhook: string;
}

/** Fresh random keys that pass every strength rule. */
export function makeKeys(): TestKeys {
  return {
    widget: generateSecret(),
    admin: generateSecret(),
    server: generateSecret(),
    signing: generateSecret(),
    webhook: generateSecret(),
  };
}

/** A snapshot holding `keys` as the current versions, all created at `createdAt`. */
export function snapshotOf(keys: TestKeys, createdAt: number = T0): Record<SecretName, SecretEntry> {
  const entry = (name: string, value: string): SecretEntry => ({
    current: { versionId: `${name}-v1`, value, createdAt },
  });
  return {
    'widget-api-key': entry('widget', keys.widget),
    'admin-api-key': entry('admin', keys.admin),
    'server-api-key': entry('server', keys.server),
    'widget-signing-secret': entry('signing', keys.signing),
    'webhook-signing-secret': entry('webhook', keys.webhook),
  };
}

/** A `SecretSource` whose snapshot a test sets, which counts its loads and can be made to fail. */
export class FakeSecretSource implements SecretSource {
  snapshot: SecretSnapshot;
  loads = 0;
  /** When set, `load()` rejects with this error. */
  failure: Error | undefined;
  constructor(snapshot: SecretSnapshot) {
    this.snapshot = snapshot;
  }
  async load(): Promise<SecretSnapshot> {
    this.loads += 1;
    if (this.failure) throw this.failure;
    return this.snapshot;
  }
}

/** An `AuditStore` that keeps every event it is given, split by how it was stored. */
export class InMemoryAuditStore implements AuditStore {
  readonly stored: AuditEvent[] = [];
  readonly aggregated: AuditEvent[] = [];
  async put(event: AuditEvent): Promise<void> {
    this.stored.push(event);
  }
  async aggregate(event: AuditEvent): Promise<void> {
    this.aggregated.push(event);
  }
  /** Every event, stored or aggregated, in arrival order of each kind. */
  all(): AuditEvent[] {
    return [...this.stored, ...this.aggregated];
  }
  /** The events of one type. */
  ofType(type: AuditType): AuditEvent[] {
    return this.all().filter((event) => event.type === type);
  }
  async list(input: { limit: number; type?: AuditType; from?: PagePosition }): Promise<Page<AuditRecord> | undefined> {
    const records = this.all()
      .filter((event) => input.type === undefined || event.type === input.type)
      .map((event, i): AuditRecord => ({
        id: `${iso(event.at)}#${i}`,
        type: event.type,
        actor: event.actor,
        ip: event.ip,
        method: event.method,
        route: event.route,
        requestId: event.requestId,
        at: iso(event.at),
        lastAt: iso(event.at),
        count: 1,
        detail: event.detail ?? {},
      }));
    return { items: records.slice(0, input.limit) };
  }
}

/** A `RevocationStore` in memory; set `failure` to make every call reject. */
export class InMemoryRevocationStore implements RevocationStore {
  /** Revoked token ids and when each revocation expires (epoch seconds). */
  readonly tokens = new Map<string, number>();
  /** Per user: tokens issued at or before this second are revoked. */
  readonly users = new Map<string, { revokedBefore: number; expiresAt: number }>();
  failure: Error | undefined;
  async revokeToken(revocationId: string, expiresAt: number): Promise<void> {
    if (this.failure) throw this.failure;
    this.tokens.set(revocationId, expiresAt);
  }
  async revokeUser(userId: string, atSeconds: number, ttlSeconds: number): Promise<void> {
    if (this.failure) throw this.failure;
    const existing = this.users.get(userId);
    if (existing && existing.revokedBefore > atSeconds) return;
    this.users.set(userId, { revokedBefore: atSeconds, expiresAt: atSeconds + ttlSeconds });
  }
  async isRevoked(
    token: { revocationId: string; userId: string; iat: number | undefined },
    nowMs: number,
  ): Promise<boolean> {
    if (this.failure) throw this.failure;
    const now = Math.floor(nowMs / 1000);
    const tokenExpiry = this.tokens.get(token.revocationId);
    if (tokenExpiry !== undefined && tokenExpiry > now) return true;
    const user = this.users.get(token.userId);
    return user !== undefined && user.expiresAt > now && (token.iat ?? 0) <= user.revokedBefore;
  }
}

/** An `ApiKeyStore` in memory with the same limit rule (revoked keys free their slot); counts lookups. */
export class InMemoryApiKeyStore implements ApiKeyStore {
  readonly records = new Map<string, ApiKeyRecord>();
  lookups = 0;
  failure: Error | undefined;
  async create(record: ApiKeyRecord, maxActive: number): Promise<void> {
    if (this.failure) throw this.failure;
    const active = [...this.records.values()].filter((r) => r.revokedAt === undefined).length;
    if (active >= maxActive) throw new KeyLimitError(maxActive);
    this.records.set(record.id, record);
  }
  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    this.lookups += 1;
    if (this.failure) throw this.failure;
    return [...this.records.values()].find((r) => r.hash === hash);
  }
  async list(input: { limit: number; from?: PagePosition }): Promise<Page<ApiKeyRecord> | undefined> {
    if (this.failure) throw this.failure;
    const all = [...this.records.values()].sort((a, b) => b.id.localeCompare(a.id));
    const start = input.from?.key === undefined ? 0 : Number(input.from.key.index);
    const items = all.slice(start, start + input.limit);
    const next = start + input.limit;
    return next < all.length ? { items, next: { key: { index: next } } } : { items };
  }
  async revoke(id: string, now: number): Promise<{ record: ApiKeyRecord; changed: boolean } | undefined> {
    if (this.failure) throw this.failure;
    const record = this.records.get(id);
    if (!record) return undefined;
    if (record.revokedAt !== undefined) return { record, changed: false };
    const revoked = { ...record, revokedAt: now };
    this.records.set(id, revoked);
    return { record: revoked, changed: true };
  }
}

/** A `RateLimitStore` in memory; set `failure` to make every call reject. */
export class InMemoryRateLimitStore implements RateLimitStore {
  readonly counts = new Map<string, number>();
  failure: Error | undefined;
  #id = (c: CounterRef): string => `${c.tier}#${c.key}#${c.window}`;
  /** A counter's count, read synchronously by tests. */
  count(counter: CounterRef): number {
    return this.counts.get(this.#id(counter)) ?? 0;
  }
  async read(counter: CounterRef): Promise<number> {
    if (this.failure) throw this.failure;
    return this.counts.get(this.#id(counter)) ?? 0;
  }
  async incrementBelow(counter: CounterRef, below: number): Promise<number | undefined> {
    if (this.failure) throw this.failure;
    const count = this.counts.get(this.#id(counter)) ?? 0;
    if (count >= below) return undefined;
    this.counts.set(this.#id(counter), count + 1);
    return count + 1;
  }
  async increment(counter: CounterRef): Promise<number> {
    if (this.failure) throw this.failure;
    const count = (this.counts.get(this.#id(counter)) ?? 0) + 1;
    this.counts.set(this.#id(counter), count);
    return count;
  }
  async decrement(counter: CounterRef): Promise<void> {
    if (this.failure) throw this.failure;
    const count = this.counts.get(this.#id(counter)) ?? 0;
    if (count > 0) this.counts.set(this.#id(counter), count - 1);
  }
}

interface StoredSession {
  owner: string;
  origin: string | null;
  createdAt: string;
  updatedAt: string;
  nextSeq: number;
  messages: { seq: number; key: string; message: ChatMessage; turnKey?: string }[];
}

/** A `ConversationStore` in a `Map`, enough for the handlers the middleware tests drive. */
export class InMemoryConversationStore implements ConversationStore {
  readonly sessions = new Map<string, StoredSession>();

  async beginTurn(input: ClaimInput): Promise<number> {
    const owner = ownerValue(input.owner);
    let session = this.sessions.get(input.sessionId);
    if (session && session.owner !== owner) throw new NotFoundError('No such session.');
    if (!session) {
      session = {
        owner,
        origin: input.origin ?? null,
        createdAt: iso(input.now),
        updatedAt: iso(input.now),
        nextSeq: 1,
        messages: [],
      };
      this.sessions.set(input.sessionId, session);
    }
    const first = session.nextSeq;
    session.nextSeq += input.count;
    session.updatedAt = iso(input.now);
    return first;
  }

  async claimWithMessage(input: ClaimWithMessageInput): Promise<{ seq: number; key?: string }> {
    const owner = input.owner.kind === 'user' ? input.owner.userId : null;
    if (input.seen !== undefined && input.seen.userId !== owner) throw new NotFoundError('No such session.');
    const current = await this.get(input.sessionId);
    // Stored only when the session is as it was seen, as the conditional transaction does.
    const unchanged = current?.messageCount === input.seen?.messageCount;
    const seq = await this.beginTurn(input);
    if (!unchanged) return { seq };
    return { seq, key: await this.appendMessage(input.sessionId, seq, input.message, input.now) };
  }

  async appendMessage(
    sessionId: string,
    seq: number,
    message: ChatMessage,
    _now: number,
    turnKey?: string,
  ): Promise<string> {
    const key = `MSG#${seq}`;
    this.sessions.get(sessionId)?.messages.push({ seq, key, message, ...(turnKey ? { turnKey } : {}) });
    return key;
  }

  async getMessage(sessionId: string, key: string): Promise<ChatMessage | undefined> {
    return this.sessions.get(sessionId)?.messages.find((m) => m.key === key)?.message;
  }

  async releaseTurn(sessionId: string, count: number): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (session) session.nextSeq -= count;
  }

  async recentMessages(sessionId: string, limit: number): Promise<StoredMessage[]> {
    const messages = this.sessions.get(sessionId)?.messages ?? [];
    return messages
      .slice(-limit)
      .map((m) => ({ ...m.message, key: m.key, ...(m.turnKey ? { turnKey: m.turnKey } : {}) }));
  }

  async get(sessionId: string): Promise<ConversationSummary | undefined> {
    const session = this.sessions.get(sessionId);
    if (!session) return undefined;
    return {
      sessionId,
      userId: session.owner.startsWith('user:') ? session.owner.slice('user:'.length) : null,
      origin: session.origin,
      createdAt: session.createdAt,
      updatedAt: session.updatedAt,
      messageCount: session.messages.length,
    };
  }

  async messages(sessionId: string, limit: number): Promise<Page<ChatMessage>> {
    const messages = this.sessions.get(sessionId)?.messages ?? [];
    return { items: messages.slice(0, limit).map((m) => m.message) };
  }

  async list(input: { limit: number }): Promise<Page<ConversationSummary> | undefined> {
    const items: ConversationSummary[] = [];
    for (const id of this.sessions.keys()) {
      const summary = await this.get(id);
      if (summary) items.push(summary);
    }
    return { items: items.slice(0, input.limit) };
  }

  async delete(sessionId: string): Promise<number> {
    const session = this.sessions.get(sessionId);
    if (!session) return 0;
    this.sessions.delete(sessionId);
    return session.messages.length + 1;
  }
}

/** Powertools Idempotency records in a `Map`, with the DynamoDB layer's put condition. */
export class InMemoryIdempotencyStore extends BasePersistenceLayer {
  readonly records = new Map<string, IdempotencyRecord>();

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const record = this.records.get(idempotencyKey);
    if (!record) throw new IdempotencyItemNotFoundError();
    return record;
  }

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const existing = this.records.get(record.idempotencyKey);
    const inProgressExpired =
      existing?.getStatus() === 'INPROGRESS' &&
      existing.inProgressExpiryTimestamp !== undefined &&
      existing.inProgressExpiryTimestamp < Date.now();
    if (existing && !existing.isExpired() && !inProgressExpired) {
      throw new IdempotencyItemAlreadyExistsError('exists', existing);
    }
    this.records.set(record.idempotencyKey, record);
  }

  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.records.set(record.idempotencyKey, record);
  }

  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.records.delete(record.idempotencyKey);
  }
}

/** Spent visitor-token challenges in memory, with the store's first-writer-wins rule. */
export class InMemorySpentChallengeStore implements SpentChallengeStore {
  readonly spent = new Map<string, number>();
  async spend(challenge: string, expiresAt: number): Promise<boolean> {
    if (this.spent.has(challenge)) return false;
    this.spent.set(challenge, expiresAt);
    return true;
  }
}

/** What a test controls and inspects around one fake runtime. */
export interface FakeRuntime {
  readonly runtime: Runtime;
  readonly clock: FakeClock;
  readonly keys: TestKeys;
  readonly source: FakeSecretSource;
  readonly auditStore: InMemoryAuditStore;
  readonly conversations: InMemoryConversationStore;
  readonly revocations: InMemoryRevocationStore;
  readonly apiKeyStore: InMemoryApiKeyStore;
  readonly rateLimits: InMemoryRateLimitStore;
  readonly idempotency: InMemoryIdempotencyStore;
  readonly budgetStore: InMemoryBudgetStore;
  readonly pauseStore: InMemoryPauseStore;
  readonly logger: Logger;
}

export interface FakeRuntimeOptions {
  /** Environment for `loadConfig`; `LOG_LEVEL` defaults to `silent`. */
  readonly env?: Readonly<Record<string, string>>;
  readonly clock?: FakeClock;
  readonly keys?: TestKeys;
  /** @default the keys as current versions created at the clock's start */
  readonly snapshot?: SecretSnapshot;
  /** @default the echo model */
  readonly model?: ModelProvider;
  /** `null` for none. @default the one `GUARDRAIL_PROVIDER` names (the local guardrail) */
  readonly guardrail?: Guardrail | null;
  /** @default none */
  readonly metrics?: Metrics;
}

/** Builds a `Runtime` on fakes: real config, secret cache, audit log and rate limiter over in-memory stores. */
export function fakeRuntime(options: FakeRuntimeOptions = {}): FakeRuntime {
  const clock = options.clock ?? new FakeClock();
  const keys = options.keys ?? makeKeys();
  const config = loadConfig({ LOG_LEVEL: 'silent', ...options.env });
  const logger = createLogger('silent');
  const source = new FakeSecretSource(options.snapshot ?? snapshotOf(keys, clock.now()));
  const auditStore = new InMemoryAuditStore();
  const conversations = new InMemoryConversationStore();
  const revocations = new InMemoryRevocationStore();
  const apiKeyStore = new InMemoryApiKeyStore();
  const rateLimits = new InMemoryRateLimitStore();
  const idempotency = new InMemoryIdempotencyStore();
  const budgetStore = new InMemoryBudgetStore();
  const pauseStore = new InMemoryPauseStore();
  const runtime: Runtime = {
    config,
    logger,
    secrets: new CachingSecretProvider({
      source,
      ttlSeconds: config.secretCacheTtlSeconds,
      maxStaleSeconds: config.secretMaxStaleSeconds,
      production: config.production,
      clock: clock.now,
    }),
    conversations,
    auditStore,
    revocations,
    spentChallenges: new InMemorySpentChallengeStore(),
    apiKeyStore,
    apiKeys: new ApiKeyVerifier({ store: apiKeyStore, clock: clock.now }),
    rateLimiter: new RateLimiter({ store: rateLimits, windowMs: config.rateLimit.windowMs, clock: clock.now }),
    audit: new AuditLog({ store: auditStore, logger, clock: clock.now }),
    budgets: new Budgets({ store: budgetStore, limits: config.budget, clock: clock.now, pickShard: () => 0 }),
    chatPause: new ChatPause({ store: pauseStore, clock: clock.now }),
    model: options.model ?? new EchoModel(),
    ...(options.guardrail === undefined ? {} : { guardrail: options.guardrail }),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    idempotency,
    clock: clock.now,
  };
  return {
    runtime,
    clock,
    keys,
    source,
    auditStore,
    conversations,
    revocations,
    apiKeyStore,
    rateLimits,
    idempotency,
    budgetStore,
    pauseStore,
    logger,
  };
}

/** One request as a test describes it. */
export interface EventInput {
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Query parameters; an array is a parameter given several times. */
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  /** @default 203.0.113.7 */
  readonly sourceIp?: string;
}

/** An API Gateway REST proxy event, routed as API Gateway would (resource and path parameters). */
export function apiEvent(input: EventInput): APIGatewayProxyEvent {
  const route = matchRoute(input.method, input.path);
  const headers = { ...input.headers };
  const entries = Object.entries(input.query ?? {}).map(([name, value]): [string, string[]] => [
    name,
    typeof value === 'string' ? [value] : [...value],
  ]);
  return {
    httpMethod: input.method,
    path: input.path,
    resource: route.resource,
    pathParameters: route.pathParameters === null ? null : { ...route.pathParameters },
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: entries.length === 0 ? null : Object.fromEntries(entries.map(([n, v]) => [n, v.at(-1)!])),
    multiValueQueryStringParameters: entries.length === 0 ? null : Object.fromEntries(entries),
    stageVariables: null,
    body: input.body ?? null,
    isBase64Encoded: input.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'testapi',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: input.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: input.sourceIp ?? '203.0.113.7',
        user: null,
        userAgent: 'jest',
        userArn: null,
      },
      path: `/prod${input.path}`,
      stage: 'prod',
      requestId: 'apigw-request-id',
      requestTimeEpoch: T0,
      resourceId: 'res',
      resourcePath: route.resource,
    },
  };
}

/**
 * A fresh Lambda context per invocation, as Lambda gives (the chain keeps request state on it),
 * without `getRemainingTimeInMillis` so Middy arms no early-timeout timer.
 */
export const newContext = (): Context =>
  ({
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test',
    memoryLimitInMB: '512',
    awsRequestId: 'lambda-request-id',
    logGroupName: '/aws/lambda/test',
    logStreamName: 'stream',
  }) as unknown as Context;

/** A response with its body read (streams to the end) and parsed as JSON (undefined when empty or not JSON). */
export interface TestResponse extends APIGatewayProxyResult {
  readonly headers: Record<string, string | number | boolean>;
  readonly json: unknown;
}

/** Invokes `handler` with the event described by `input`. */
export async function invoke(handler: LambdaHandler, input: EventInput | APIGatewayProxyEvent): Promise<TestResponse> {
  const event = 'requestContext' in input ? input : apiEvent(input);
  const result = await handler(event, newContext());
  const body = typeof result.body === 'string' ? result.body : await text(result.body);
  let json: unknown;
  try {
    json = body ? (JSON.parse(body) as unknown) : undefined;
  } catch {
    json = undefined;
  }
  return { ...result, body, headers: { ...result.headers }, json };
}

/** The `error` object of a contract error body. */
export function errorOf(response: TestResponse): Record<string, unknown> {
  const body = response.json as { error?: Record<string, unknown> } | undefined;
  if (!body?.error) throw new Error(`not an error body: ${response.body}`);
  return body.error;
}

/** A JSON body for `POST /v1/chat` with the headers it needs. */
export function chatRequest(
  widgetKey: string,
  body: unknown = { sessionId: 'session-1', message: 'hello' },
  headers: Readonly<Record<string, string>> = {},
): EventInput {
  return {
    method: 'POST',
    path: '/v1/chat',
    headers: { 'Content-Type': 'application/json', 'X-Widget-Api-Key': widgetKey, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}
