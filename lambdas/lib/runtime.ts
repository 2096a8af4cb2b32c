/**
 * The runtime: everything a handler needs (config, logger, secrets, stores, model, clock),
 * built once per process. Lambda builds it from the environment; the local server and tests
 * build it with their own adapters. Only the adapters differ; the handlers are the same.
 */
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApiKeyVerifier } from './api-keys.js';
import { systemEvent, type AuditType } from './audit-events.js';
import { AuditLog } from './audit.js';
import { loadDynamoDbClient } from './clients.js';
import { DynamoIdempotencyStore } from './stores/idempotency-store.js';
import { LazyDocumentClient } from './stores/document-client.js';
import { loadConfig, type Config } from './config.js';
import { EnvOverrideSource } from './secrets/env-secrets.js';
import { openAiApiKeyFor } from './llm/api-key.js';
import { createModel, type ModelProvider } from './llm/index.js';
import type { Guardrail } from './guardrails/guardrail.js';
import { RateLimiter } from './rate-limiter.js';
import { SecretsManagerSource, secretIdsFor } from './secrets/secrets-manager.js';
import { createLogger, type Logger } from './logger.js';
import { CachingSecretProvider, type SecretProvider, type SecretSource } from './secrets.js';
import { DynamoApiKeyStore } from './stores/api-key-store.js';
import type { ApiKeyStore } from './api-keys.js';
import { DynamoAuditStore } from './stores/audit-store.js';
import { type AuditStore } from './audit-events.js';
import { DynamoConversationStore } from './stores/conversation-store.js';
import { type ConversationStore } from './conversation.js';
import { DynamoRateLimitStore } from './stores/rate-limit-store.js';
import { DynamoRevocationStore } from './stores/revocation-store.js';
import type { RevocationStore } from './revocation.js';
import { Budgets } from './budget.js';
import { ChatPause } from './chat-pause.js';
import { DynamoBudgetStore } from './stores/budget-store.js';
import { DynamoPauseStore } from './stores/chat-pause-store.js';
import { DynamoSpentChallengeStore } from './stores/challenge-store.js';
import type { SpentChallengeStore } from './visitors/redeem.js';
import {
  NOT_FORWARDED,
  createWebhookPublisher,
  securityEvent,
  withConversationEvents,
  type OnDropped,
  type WebhookPublisher,
} from './webhooks/index.js';

/** What every handler receives. */
export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly secrets: SecretProvider;
  readonly conversations: ConversationStore;
  readonly auditStore: AuditStore;
  readonly revocations: RevocationStore;
  /** Visitor-token challenges already redeemed (design §14). */
  readonly spentChallenges: SpentChallengeStore;
  /** Managed API keys: the store, and the verifier (with its cache) that authentication uses. */
  readonly apiKeyStore: ApiKeyStore;
  readonly apiKeys: ApiKeyVerifier;
  readonly rateLimiter: RateLimiter;
  readonly audit: AuditLog;
  /** Daily token budgets (design §12). */
  readonly budgets: Budgets;
  /** The operator's chat pause switch (design §12). */
  readonly chatPause: ChatPause;
  readonly model: ModelProvider;
  /**
   * Checks on model input and output (design §13). Absent: the one `GUARDRAIL_PROVIDER` names,
   * made by the chat service on first use, so only the chat functions bundle the detectors.
   */
  readonly guardrail?: Guardrail | null;
  /** EMF metrics: guardrail blocks, model tokens, budget refusals (absent locally, where logs are read by people). */
  readonly metrics?: Metrics;
  /** Powertools Idempotency records for `Idempotency-Key` requests. */
  readonly idempotency: BasePersistenceLayer;
  /** The webhook feed, when `WEBHOOK_URL` is set; `onDropped` records `webhook.dropped`. */
  readonly webhooks?: { readonly publisher: WebhookPublisher; readonly onDropped: OnDropped };
  readonly clock: () => number;
}

/** The adapters a runtime is built from; everything but config and secrets has a default. */
export interface RuntimeParts {
  readonly config: Config;
  readonly secretSource: SecretSource;
  /** @default a Powertools logger at `LOG_LEVEL` */
  readonly logger?: Logger;
  /** @default a client for `DYNAMODB_ENDPOINT` or the regional endpoint */
  readonly dynamoDbClient?: DynamoDBClient;
  /** @default the provider named by `LLM_PROVIDER` */
  readonly model?: ModelProvider;
  /** `null` for none. @default the guardrail named by `GUARDRAIL_PROVIDER` */
  readonly guardrail?: Guardrail | null;
  /** EMF metrics; `false` for none (the local server, whose logs are read by people). @default Powertools Metrics */
  readonly metrics?: Metrics | false;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** Builds a runtime; no I/O happens, and no SDK is loaded, until the first request needs it. */
export function createRuntime(parts: RuntimeParts): Runtime {
  const { config } = parts;
  const clock = parts.clock ?? Date.now;
  const logger = parts.logger ?? createLogger(config.logLevel);
  let dynamoDbClient: Promise<DynamoDBClient> | undefined =
    parts.dynamoDbClient && Promise.resolve(parts.dynamoDbClient);
  // A failed load is not kept: the next request loads again (LazyDocumentClient fails this one closed).
  const dynamoDb = () =>
    (dynamoDbClient ??= loadDynamoDbClient({ endpoint: config.dynamoDbEndpoint }).catch((error: unknown) => {
      dynamoDbClient = undefined;
      throw error;
    }));
  const client = new LazyDocumentClient(dynamoDb);
  const auditStore = new DynamoAuditStore({
    client,
    tableName: config.securityTable,
    retentionDays: config.auditRetentionDays,
  });
  const metrics =
    parts.metrics === false
      ? undefined
      : (parts.metrics ?? new Metrics({ namespace: 'ChatWidget', serviceName: 'chat-widget' }));
  const audit = new AuditLog({
    store: auditStore,
    logger,
    metrics,
    // `publisher` is made below, from the secrets; no event is recorded before this function returns.
    forward: async (event) => {
      if (publisher && !NOT_FORWARDED.has(event.type)) await publisher.publish(securityEvent(event));
    },
    clock,
  });
  const recordSystemEvent = (type: AuditType, detail: Record<string, string | number>) =>
    void audit.record(systemEvent(type, clock(), detail));
  const secrets = new CachingSecretProvider({
    source: parts.secretSource,
    ttlSeconds: config.secretCacheTtlSeconds,
    maxStaleSeconds: config.secretMaxStaleSeconds,
    production: config.production,
    clock,
    onRefreshFailed: (error, serving) => {
      logger.error('secret refresh failed', { serving, error });
      recordSystemEvent('secret.refresh_failed', { serving });
    },
    onWeakSecrets: (problems) => {
      logger.warn(`WEAK SECRETS: ${problems.join('; ')}. APP_ENV=production would refuse to start.`);
      recordSystemEvent('secret.weak', { problems: problems.length });
    },
  });
  const onDropped: OnDropped = (event, reason, attempts) =>
    recordSystemEvent('webhook.dropped', { eventId: event.id, eventType: event.type, reason, attempts });
  const publisher = createWebhookPublisher(config, { secrets, clock, onDropped });
  const conversations = new DynamoConversationStore({
    client,
    tableName: config.conversationsTable,
    ttlDays: config.conversationTtlDays,
  });
  const apiKeyStore = new DynamoApiKeyStore({
    client,
    tableName: config.securityTable,
    retentionDays: config.auditRetentionDays,
  });
  return {
    config,
    logger,
    secrets,
    conversations: publisher ? withConversationEvents(conversations, publisher) : conversations,
    auditStore,
    revocations: new DynamoRevocationStore({ client, tableName: config.securityTable }),
    spentChallenges: new DynamoSpentChallengeStore({ client, tableName: config.securityTable }),
    apiKeyStore,
    apiKeys: new ApiKeyVerifier({ store: apiKeyStore, clock }),
    rateLimiter: new RateLimiter({
      store: new DynamoRateLimitStore({ client, tableName: config.securityTable }),
      windowMs: config.rateLimit.windowMs,
      clock,
    }),
    audit,
    budgets: new Budgets({
      store: new DynamoBudgetStore({ client, tableName: config.securityTable }),
      limits: config.budget,
      clock,
      onSettleFailed: (error) => logger.error('budget settlement failed', { error }),
    }),
    chatPause: new ChatPause({ store: new DynamoPauseStore({ client, tableName: config.securityTable }), clock }),
    model:
      parts.model ??
      createModel(config, config.llm.provider === 'openai' ? { openAiApiKey: openAiApiKeyFor(config) } : {}),
    ...(parts.guardrail === undefined ? {} : { guardrail: parts.guardrail }),
    metrics,
    idempotency: new DynamoIdempotencyStore({ client, tableName: config.idempotencyTable }),
    ...(publisher ? { webhooks: { publisher, onDropped } } : {}),
    clock,
  };
}

let lambdaRuntime: Runtime | undefined;

/**
 * The Lambda runtime, built from the environment on first use and kept for the life of the
 * instance. Secrets come from Secrets Manager when `SECRETS_PREFIX` is set; environment
 * overrides win over it.
 */
export function getLambdaRuntime(): Runtime {
  if (!lambdaRuntime) {
    const config = loadConfig();
    const secretsManager =
      config.secretsPrefix === undefined
        ? undefined
        : new SecretsManagerSource({ secretIds: secretIdsFor(config.secretsPrefix) });
    lambdaRuntime = createRuntime({
      config,
      secretSource: new EnvOverrideSource(config.secretOverrides, secretsManager),
    });
  }
  return lambdaRuntime;
}
