/**
 * Configuration: every variable of the contract parsed and validated once at cold start with zod,
 * then frozen. A bad value stops the process with a message naming the variable and what is
 * allowed; secret values are never echoed.
 */
import * as z from 'zod';
import { ConfigurationError } from './errors.js';
import { bool, int } from './env-values.js';
import { parseOriginList, type OriginRule } from './origins.js';
import { guardrailEnv, guardrailConfigOf, type GuardrailConfig } from './guardrails/config.js';

/** The Bedrock model used when `BEDROCK_MODEL_ID` is not set. */
export const DEFAULT_BEDROCK_MODEL_ID = 'anthropic.claude-3-haiku-20240307-v1:0';

/** The largest body API Gateway accepts (10 MiB); `MAX_BODY_BYTES` cannot exceed it. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** USD per million tokens: a non-negative decimal, unset for none. */
const price = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '') return undefined;
    if (!/^\d{1,6}(\.\d{1,6})?$/.test(v)) {
      ctx.addIssue({ code: 'custom', message: 'must be a decimal number of USD per million tokens (e.g. 0.15)' });
      return z.NEVER;
    }
    return Number(v);
  });

const optionalString = (max: number) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .optional()
    .transform((v) => (v === '' ? undefined : v));

const tableName = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, { error: 'must be a DynamoDB table name ([A-Za-z0-9_.-], 3–255 chars)' })
    .default(fallback);

const SECRET_VARIABLES = [
  'WIDGET_API_KEY',
  'ADMIN_API_KEY',
  'SERVER_API_KEY',
  'WIDGET_SIGNING_SECRET',
  'WEBHOOK_SIGNING_SECRET',
  'OPENAI_API_KEY',
] as const;

/** Secret overrides: validated for size only, and never echoed in an error. */
const secretValue = optionalString(4096);
const secretOverrides = Object.fromEntries(
  SECRET_VARIABLES.flatMap((name) => [
    [name, secretValue],
    [`${name}_PREVIOUS`, secretValue],
  ]),
) as Record<`${(typeof SECRET_VARIABLES)[number]}${'' | '_PREVIOUS'}`, typeof secretValue>;

const envSchema = z.object({
  APP_ENV: z
    .enum(['development', 'production'], { error: 'must be "development" or "production"' })
    .default('development'),
  PORT: int(3000, 0, 65535),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOCAL_DATA_DIR: z.string().min(1).default('.local'),
  LOCAL_DYNAMODB: z
    .enum(['auto', 'java', 'dynalite', 'memory'], { error: 'must be one of auto, java, dynalite, memory' })
    .default('auto'),
  DYNAMODB_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  CONVERSATIONS_TABLE: tableName('chat-widget-conversations'),
  SECURITY_TABLE: tableName('chat-widget-security'),
  IDEMPOTENCY_TABLE: tableName('chat-widget-idempotency'),
  ...secretOverrides,
  SECRETS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]{0,256}$/, {
      error: 'must be a Secrets Manager name prefix ([A-Za-z0-9/_+=.@-], up to 256 chars)',
    })
    .optional(),
  SECRET_CACHE_TTL_SECONDS: int(300, 1, 86400),
  SECRET_GRACE_SECONDS: int(86400, 0, 30 * 86400),
  SECRET_MAX_STALE_SECONDS: int(3600, 0, 86400),
  CORS_ORIGIN: z.string().default(''),
  ADMIN_CORS_ORIGIN: z.string().default(''),
  REQUIRE_WIDGET_TOKEN: bool(undefined),
  WIDGET_TOKEN_MAX_TTL_SECONDS: int(86400, 60, 30 * 86400),
  WIDGET_TOKEN_AUDIENCE: optionalString(256),
  WIDGET_TOKEN_ISSUER: optionalString(256),
  RATE_LIMIT_WINDOW_MS: int(60000, 1000, 3600000),
  RATE_LIMIT_MAX_REQUESTS: int(60, 1, 1000000),
  RATE_LIMIT_SESSION_MAX: int(20, 1, 1000000),
  RATE_LIMIT_USER_MAX: int(30, 1, 1000000),
  TOKEN_RATE_LIMIT_MAX: int(120, 1, 1000000),
  ADMIN_RATE_LIMIT_MAX: int(60, 1, 1000000),
  AUTH_FAILURE_LIMIT: int(10, 1, 1000000),
  VISITOR_TOKEN_RATE_LIMIT_MAX: int(10, 1, 1000000),
  VISITOR_CHALLENGE: z.enum(['pow', 'waf', 'none'], { error: 'must be one of pow, waf, none' }).default('pow'),
  VISITOR_POW_MAX_NUMBER: int(100000, 1000, 10000000),
  VISITOR_TOKEN_TTL_SECONDS: int(3600, 60, 86400),
  RATE_LIMIT_FAIL_OPEN: bool(false),
  MAX_BODY_BYTES: int(65536, 256, API_GATEWAY_MAX_BODY_BYTES),
  CONVERSATION_TTL_DAYS: int(30, 1, 3650),
  AUDIT_RETENTION_DAYS: int(90, 1, 3650),
  LLM_PROVIDER: z
    .enum(['echo', 'openai', 'bedrock'], { error: 'must be one of echo, openai, bedrock' })
    .default('echo'),
  OPENAI_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .default('https://api.openai.com/v1'),
  OPENAI_MODEL: z.string().min(1).max(256).default('gpt-4o-mini'),
  BEDROCK_MODEL_ID: z.string().min(1).max(256).default(DEFAULT_BEDROCK_MODEL_ID),
  SYSTEM_PROMPT: z.string().max(8000).default('You are a helpful assistant.'),
  CONTEXT_MESSAGES: int(20, 1, 200),
  CONTEXT_MAX_TOKENS: int(8000, 1, 1_000_000),
  MODEL_MAX_OUTPUT_TOKENS: int(1024, 1, 1_000_000),
  BUDGET_TOKENS_PER_SESSION: int(20000, 0, Number.MAX_SAFE_INTEGER),
  BUDGET_TOKENS_PER_USER: int(100000, 0, Number.MAX_SAFE_INTEGER),
  BUDGET_TOKENS_PER_IP: int(50000, 0, Number.MAX_SAFE_INTEGER),
  BUDGET_TOKENS_PER_DAY: int(2000000, 0, Number.MAX_SAFE_INTEGER),
  BUDGET_DEPLOYMENT_SHARDS: int(32, 1, 100),
  MODEL_PRICE_INPUT_PER_MTOK: price,
  MODEL_PRICE_OUTPUT_PER_MTOK: price,
  MODEL_TIMEOUT_MS: int(25000, 1000, 900000),
  MODEL_CONNECT_TIMEOUT_MS: int(3000, 100, 60000),
  WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  WEBHOOK_QUEUE_URL: z.url({ protocol: /^https$/, error: 'must be an https SQS queue URL' }).optional(),
  WEBHOOK_MAX_ATTEMPTS: int(8, 1, 20),
  WEBHOOK_RETRY_BASE_MS: int(5000, 10, 600000),
  WEBHOOK_TIMEOUT_MS: int(5000, 100, 30000),
  LOG_LEVEL: z
    .enum(['debug', 'info', 'warn', 'error', 'silent'], { error: 'must be one of debug, info, warn, error, silent' })
    .default('info'),
  ...guardrailEnv,
});

type Env = z.output<typeof envSchema>;

/** A secret given through the environment: the current value and an optional previous one. */
export interface SecretOverride {
  readonly current?: string;
  readonly previous?: string;
}

/** The frozen, validated configuration every module reads. */
export interface Config {
  readonly appEnv: 'development' | 'production';
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  readonly localDataDir: string;
  readonly localDynamoDb: Env['LOCAL_DYNAMODB'];
  readonly dynamoDbEndpoint: string | undefined;
  readonly conversationsTable: string;
  readonly securityTable: string;
  /** Powertools Idempotency records of `Idempotency-Key` requests. */
  readonly idempotencyTable: string;
  readonly secretOverrides: Readonly<Record<(typeof SECRET_VARIABLES)[number], SecretOverride>>;
  /** Where Lambda reads the secrets: `<prefix>widget-api-key` … in Secrets Manager; unset: the environment only. */
  readonly secretsPrefix: string | undefined;
  readonly secretCacheTtlSeconds: number;
  readonly secretGraceSeconds: number;
  readonly secretMaxStaleSeconds: number;
  readonly corsOrigins: readonly OriginRule[];
  readonly adminCorsOrigins: readonly OriginRule[];
  readonly requireWidgetToken: boolean;
  readonly widgetTokenMaxTtlSeconds: number;
  readonly widgetTokenAudience: string | undefined;
  readonly widgetTokenIssuer: string | undefined;
  readonly rateLimit: {
    readonly windowMs: number;
    readonly ipMax: number;
    readonly sessionMax: number;
    readonly userMax: number;
    readonly tokenMax: number;
    readonly adminMax: number;
    readonly authFailureMax: number;
    /** Visitor tokens minted per client address per window (design §14). */
    readonly visitorTokenMax: number;
    readonly failOpen: boolean;
  };
  /** Visitor tokens (design §14). */
  readonly visitor: {
    /** What a visitor pays for a token: a proof of work, the WAF challenge (deployed), or nothing (development). */
    readonly challenge: Env['VISITOR_CHALLENGE'];
    /** The largest number a proof-of-work challenge hides; the mean cost to solve is half of it in SHA-256 hashes. */
    readonly powMaxNumber: number;
    readonly tokenTtlSeconds: number;
  };
  readonly maxBodyBytes: number;
  readonly conversationTtlDays: number;
  readonly auditRetentionDays: number;
  readonly llm: {
    readonly provider: Env['LLM_PROVIDER'];
    readonly openAiBaseUrl: string;
    readonly openAiModel: string;
    readonly bedrockModelId: string;
    readonly systemPrompt: string;
    readonly contextMessages: number;
    /** The context sent is trimmed oldest-first to this many tokens (the system prompt is always kept). */
    readonly contextMaxTokens: number;
    /** Passed to every provider as the answer's token limit. */
    readonly maxOutputTokens: number;
    /** The most a model call may take, streamed or not, from request to last token. */
    readonly timeoutMs: number;
    readonly connectTimeoutMs: number;
  };
  /** Daily token budgets (design §12; 0 turns one off) and optional prices in USD per million tokens. */
  readonly budget: {
    readonly session: number;
    readonly user: number;
    readonly ip: number;
    readonly deployment: number;
    readonly deploymentShards: number;
    readonly priceInputPerMTok: number | undefined;
    readonly priceOutputPerMTok: number | undefined;
  };
  /** Signed event delivery (unset `url`: no webhooks). */
  readonly webhook: {
    readonly url: string | undefined;
    /** Deployed: the SQS queue events go through; unset: an in-process queue. */
    readonly queueUrl: string | undefined;
    readonly maxAttempts: number;
    /** The first retry waits this long; each further one twice as long. */
    readonly retryBaseMs: number;
    readonly timeoutMs: number;
  };
  readonly logLevel: Env['LOG_LEVEL'];
  /** Checks on what goes to and comes from the model (design §13). */
  readonly guardrail: GuardrailConfig;
}

/**
 * Parses and validates the environment; collects every problem, then throws one
 * `ConfigurationError` naming each variable and what it allows.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.')} ${issue.message}`);
    }
  }
  // The origin lists are checked from the raw values too, so their problems are reported
  // together with the schema's rather than one round after.
  const production = env.APP_ENV === 'production';
  const corsOrigins = collectOrigins('CORS_ORIGIN', env.CORS_ORIGIN ?? '', production, problems);
  const adminCorsOrigins = collectOrigins('ADMIN_CORS_ORIGIN', env.ADMIN_CORS_ORIGIN ?? '', production, problems);
  if (production && corsOrigins.length === 0 && !problems.some((p) => p.startsWith('CORS_ORIGIN'))) {
    problems.push('CORS_ORIGIN must list at least one origin when APP_ENV=production');
  }
  // The model key travels to this URL: in production only over TLS.
  if (production && env.LLM_PROVIDER === 'openai' && env.OPENAI_BASE_URL?.startsWith('http:')) {
    problems.push('OPENAI_BASE_URL must be an https URL when APP_ENV=production');
  }
  // Events travel to this URL signed but in the clear otherwise: in production only over TLS.
  if (production && env.WEBHOOK_URL?.startsWith('http:')) {
    problems.push('WEBHOOK_URL must be an https URL when APP_ENV=production');
  }
  if (parsed.success) problems.push(...shardProblems(parsed.data));
  if (parsed.success && parsed.data.VISITOR_TOKEN_TTL_SECONDS > parsed.data.WIDGET_TOKEN_MAX_TTL_SECONDS) {
    problems.push('VISITOR_TOKEN_TTL_SECONDS must be at most WIDGET_TOKEN_MAX_TTL_SECONDS');
  }
  // Free visitor tokens would make every per-visitor limit free to reset.
  if (production && env.VISITOR_CHALLENGE === 'none') {
    problems.push('VISITOR_CHALLENGE must be pow or waf when APP_ENV=production');
  }
  if (parsed.success) problems.push(...guardrailConfigOf(parsed.data).problems);
  if (!parsed.success || problems.length > 0) throw new ConfigurationError(problems);
  const e = parsed.data;

  const override = (name: (typeof SECRET_VARIABLES)[number]): SecretOverride => ({
    current: e[name],
    previous: e[`${name}_PREVIOUS`],
  });

  return deepFreeze({
    appEnv: e.APP_ENV,
    production,
    port: e.PORT,
    host: e.HOST,
    localDataDir: e.LOCAL_DATA_DIR,
    localDynamoDb: e.LOCAL_DYNAMODB,
    dynamoDbEndpoint: e.DYNAMODB_ENDPOINT,
    conversationsTable: e.CONVERSATIONS_TABLE,
    securityTable: e.SECURITY_TABLE,
    idempotencyTable: e.IDEMPOTENCY_TABLE,
    secretOverrides: Object.fromEntries(SECRET_VARIABLES.map((n) => [n, override(n)])) as Config['secretOverrides'],
    secretsPrefix: e.SECRETS_PREFIX,
    secretCacheTtlSeconds: e.SECRET_CACHE_TTL_SECONDS,
    secretGraceSeconds: e.SECRET_GRACE_SECONDS,
    secretMaxStaleSeconds: e.SECRET_MAX_STALE_SECONDS,
    corsOrigins,
    adminCorsOrigins,
    requireWidgetToken: e.REQUIRE_WIDGET_TOKEN ?? production,
    widgetTokenMaxTtlSeconds: e.WIDGET_TOKEN_MAX_TTL_SECONDS,
    widgetTokenAudience: e.WIDGET_TOKEN_AUDIENCE,
    widgetTokenIssuer: e.WIDGET_TOKEN_ISSUER,
    rateLimit: {
      windowMs: e.RATE_LIMIT_WINDOW_MS,
      ipMax: e.RATE_LIMIT_MAX_REQUESTS,
      sessionMax: e.RATE_LIMIT_SESSION_MAX,
      userMax: e.RATE_LIMIT_USER_MAX,
      tokenMax: e.TOKEN_RATE_LIMIT_MAX,
      adminMax: e.ADMIN_RATE_LIMIT_MAX,
      authFailureMax: e.AUTH_FAILURE_LIMIT,
      visitorTokenMax: e.VISITOR_TOKEN_RATE_LIMIT_MAX,
      failOpen: e.RATE_LIMIT_FAIL_OPEN ?? false,
    },
    visitor: {
      challenge: e.VISITOR_CHALLENGE,
      powMaxNumber: e.VISITOR_POW_MAX_NUMBER,
      tokenTtlSeconds: e.VISITOR_TOKEN_TTL_SECONDS,
    },
    maxBodyBytes: e.MAX_BODY_BYTES,
    conversationTtlDays: e.CONVERSATION_TTL_DAYS,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    llm: {
      provider: e.LLM_PROVIDER,
      openAiBaseUrl: e.OPENAI_BASE_URL,
      openAiModel: e.OPENAI_MODEL,
      bedrockModelId: e.BEDROCK_MODEL_ID,
      systemPrompt: e.SYSTEM_PROMPT,
      contextMessages: e.CONTEXT_MESSAGES,
      contextMaxTokens: e.CONTEXT_MAX_TOKENS,
      maxOutputTokens: e.MODEL_MAX_OUTPUT_TOKENS,
      timeoutMs: e.MODEL_TIMEOUT_MS,
      connectTimeoutMs: e.MODEL_CONNECT_TIMEOUT_MS,
    },
    budget: {
      session: e.BUDGET_TOKENS_PER_SESSION,
      user: e.BUDGET_TOKENS_PER_USER,
      ip: e.BUDGET_TOKENS_PER_IP,
      deployment: e.BUDGET_TOKENS_PER_DAY,
      deploymentShards: e.BUDGET_DEPLOYMENT_SHARDS,
      priceInputPerMTok: e.MODEL_PRICE_INPUT_PER_MTOK,
      priceOutputPerMTok: e.MODEL_PRICE_OUTPUT_PER_MTOK,
    },
    webhook: {
      url: e.WEBHOOK_URL,
      queueUrl: e.WEBHOOK_QUEUE_URL,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    },
    logLevel: e.LOG_LEVEL,
    guardrail: guardrailConfigOf(e).config,
  });
}

/** Each deployment shard must hold at least one whole turn, or the budget could never be spent. */
function shardProblems(e: Env): string[] {
  const turn = e.CONTEXT_MAX_TOKENS + e.MODEL_MAX_OUTPUT_TOKENS;
  if (e.BUDGET_TOKENS_PER_DAY === 0 || e.BUDGET_TOKENS_PER_DAY / e.BUDGET_DEPLOYMENT_SHARDS >= turn) return [];
  return [
    `BUDGET_DEPLOYMENT_SHARDS must leave each shard at least one turn (CONTEXT_MAX_TOKENS + MODEL_MAX_OUTPUT_TOKENS = ${turn} tokens): use at most ${Math.max(1, Math.floor(e.BUDGET_TOKENS_PER_DAY / turn))} shards, or raise BUDGET_TOKENS_PER_DAY`,
  ];
}

function collectOrigins(name: string, raw: string, production: boolean, problems: string[]): OriginRule[] {
  const result = parseOriginList(raw, { allowStar: !production });
  for (const problem of result.problems) problems.push(`${name} ${problem}`);
  return result.rules;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
