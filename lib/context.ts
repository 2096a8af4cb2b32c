/**
 * CDK context: every deployment setting, read from `cdk.json` or `-c key=value`, validated with
 * zod. Every problem is collected and reported at once. The Lambda environment built from it is
 * then run through the same `loadConfig` the functions use at cold start, so a deployment that
 * would refuse to start (`*` origins in production, a bad value) fails the synth instead.
 */
import * as z from 'zod';
import { loadConfig } from '../lambdas/lib/config.js';
import { ConfigurationError } from '../lambdas/lib/errors.js';

const int = (fallback: number, min: number, max: number) =>
  z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: `must be a whole number from ${min} to ${max}` })
    .max(max, { error: `must be a whole number from ${min} to ${max}` })
    .default(fallback);

const list = z
  .union([z.string(), z.array(z.string())])
  .default('')
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''));

const flag = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .default(false)
  .transform((v) => v === true || v === 'true');

const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/, { error: 'must be IPv4 or IPv6 CIDR blocks' });

const contextSchema = z
  .object({
    appEnv: z
      .enum(['development', 'production'], { error: 'must be "development" or "production"' })
      .default('production'),
    allowedOrigins: list,
    adminAllowedOrigins: list,
    rateLimitWindowMs: int(60000, 1000, 3600000),
    rateLimitMaxRequests: int(60, 1, 1000000),
    wafRateLimit: int(2000, 10, 2000000000),
    wafChatRateLimit: int(300, 10, 2000000000),
    wafTokenRateLimit: int(600, 10, 2000000000),
    wafEvaluationWindowSeconds: z.coerce
      .number()
      .refine((n) => [60, 120, 300, 600].includes(n), { error: 'must be 60, 120, 300 or 600' })
      .default(300),
    llmProvider: z.enum(['echo', 'openai', 'bedrock'], { error: 'must be echo, openai or bedrock' }).default('echo'),
    bedrockModelId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,256}$/, { error: 'must be a Bedrock model or inference profile id' })
      .optional(),
    openAiBaseUrl: z.url({ protocol: /^https$/, error: 'must be an https URL' }).optional(),
    openAiModel: z.string().min(1).max(256).optional(),
    modelTimeoutMs: int(25000, 1000, 25000),
    conversationTtlDays: int(30, 1, 3650),
    auditRetentionDays: int(90, 1, 3650),
    rotationDays: int(30, 1, 365),
    secretGraceSeconds: int(86400, 0, 2592000),
    webhookUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL (https when appEnv is production)' })
      .optional(),
    alarmEmail: z.email({ error: 'must be an e-mail address' }).optional(),
    adminCidrs: z
      .union([z.string(), z.array(z.string())])
      .default('')
      .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''))
      .pipe(z.array(cidr)),
    budgetTokensPerSession: int(20000, 0, Number.MAX_SAFE_INTEGER),
    budgetTokensPerUser: int(100000, 0, Number.MAX_SAFE_INTEGER),
    budgetTokensPerIp: int(50000, 0, Number.MAX_SAFE_INTEGER),
    budgetTokensPerDay: int(2000000, 0, Number.MAX_SAFE_INTEGER),
    budgetDeploymentShards: int(32, 1, 100),
    modelMaxOutputTokens: int(1024, 1, 1_000_000),
    contextMaxTokens: int(8000, 1, 1_000_000),
    modelPriceInputPerMTok: z.coerce.number().min(0).max(999999).optional(),
    modelPriceOutputPerMTok: z.coerce.number().min(0).max(999999).optional(),
    spendAlarmTokensPer5Min: int(200000, 1, Number.MAX_SAFE_INTEGER),
    visitorChallenge: z
      .enum(['pow', 'waf'], { error: 'must be "pow" (proof of work in the app) or "waf" (the AWS WAF challenge)' })
      .default('pow'),
    dev: flag,
    widgetHosting: flag,
    guardrailProvider: z
      .enum(['local', 'bedrock', 'none'], { error: 'must be local, bedrock or none' })
      .default('local'),
    guardrailPiiEntities: list,
    guardrailPiiAction: z.enum(['mask', 'block'], { error: 'must be mask or block' }).default('mask'),
    guardrailDenyWords: list,
    guardrailPromptAttack: z.enum(['block', 'flag', 'off'], { error: 'must be block, flag or off' }).default('block'),
    guardrailBlockedMessage: z.string().trim().min(1).max(500).optional(),
  })
  .strict();

/** The validated deployment settings. */
export type DeploymentContext = z.output<typeof contextSchema>;

/** The names the context accepts (the app reads exactly these from CDK context). */
export const CONTEXT_KEYS = Object.keys(contextSchema.shape) as (keyof DeploymentContext)[];

/** The environment every API function receives (the names of design §11). */
export function lambdaEnvironment(
  context: DeploymentContext,
  tables: { conversations: string; security: string; idempotency: string },
  secretsPrefix: string,
): Record<string, string> {
  return {
    APP_ENV: context.appEnv,
    CORS_ORIGIN: context.allowedOrigins.join(','),
    ADMIN_CORS_ORIGIN: context.adminAllowedOrigins.join(','),
    CONVERSATIONS_TABLE: tables.conversations,
    SECURITY_TABLE: tables.security,
    IDEMPOTENCY_TABLE: tables.idempotency,
    SECRETS_PREFIX: secretsPrefix,
    SECRET_GRACE_SECONDS: String(context.secretGraceSeconds),
    RATE_LIMIT_WINDOW_MS: String(context.rateLimitWindowMs),
    RATE_LIMIT_MAX_REQUESTS: String(context.rateLimitMaxRequests),
    CONVERSATION_TTL_DAYS: String(context.conversationTtlDays),
    AUDIT_RETENTION_DAYS: String(context.auditRetentionDays),
    LLM_PROVIDER: context.llmProvider,
    VISITOR_CHALLENGE: context.visitorChallenge,
    MODEL_TIMEOUT_MS: String(context.modelTimeoutMs),
    BUDGET_TOKENS_PER_SESSION: String(context.budgetTokensPerSession),
    BUDGET_TOKENS_PER_USER: String(context.budgetTokensPerUser),
    BUDGET_TOKENS_PER_IP: String(context.budgetTokensPerIp),
    BUDGET_TOKENS_PER_DAY: String(context.budgetTokensPerDay),
    BUDGET_DEPLOYMENT_SHARDS: String(context.budgetDeploymentShards),
    MODEL_MAX_OUTPUT_TOKENS: String(context.modelMaxOutputTokens),
    CONTEXT_MAX_TOKENS: String(context.contextMaxTokens),
    ...(context.modelPriceInputPerMTok === undefined
      ? {}
      : { MODEL_PRICE_INPUT_PER_MTOK: String(context.modelPriceInputPerMTok) }),
    ...(context.modelPriceOutputPerMTok === undefined
      ? {}
      : { MODEL_PRICE_OUTPUT_PER_MTOK: String(context.modelPriceOutputPerMTok) }),
    ...(context.bedrockModelId === undefined ? {} : { BEDROCK_MODEL_ID: context.bedrockModelId }),
    ...(context.openAiBaseUrl === undefined ? {} : { OPENAI_BASE_URL: context.openAiBaseUrl }),
    ...(context.openAiModel === undefined ? {} : { OPENAI_MODEL: context.openAiModel }),
    ...(context.webhookUrl === undefined ? {} : { WEBHOOK_URL: context.webhookUrl }),
    ...guardrailEnvironment(context),
  };
}

/** The guardrail variables of design §13 (the Bedrock guardrail's id and version are added by the stack). */
function guardrailEnvironment(context: DeploymentContext): Record<string, string> {
  return {
    GUARDRAIL_PROVIDER: context.guardrailProvider,
    GUARDRAIL_PII_ACTION: context.guardrailPiiAction,
    GUARDRAIL_PROMPT_ATTACK: context.guardrailPromptAttack,
    ...(context.guardrailPiiEntities.length === 0
      ? {}
      : { GUARDRAIL_PII_ENTITIES: context.guardrailPiiEntities.join(',') }),
    ...(context.guardrailDenyWords.length === 0 ? {} : { GUARDRAIL_DENY_WORDS: context.guardrailDenyWords.join(',') }),
    ...(context.guardrailBlockedMessage === undefined
      ? {}
      : { GUARDRAIL_BLOCKED_MESSAGE: context.guardrailBlockedMessage }),
  };
}

/** Validates raw context values; throws one `ConfigurationError` listing every problem. */
export function parseContext(raw: Readonly<Record<string, unknown>>): DeploymentContext {
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigurationError(
      parsed.error.issues.map((i) => `context ${i.path.join('.') || '(root)'} ${i.message}`),
    );
  }
  // The functions' own cold-start validation, run now: what would refuse to start fails the synth.
  loadConfig({
    ...lambdaEnvironment(
      parsed.data,
      { conversations: 'synth-check', security: 'synth-check', idempotency: 'synth-check' },
      'synth-check/',
    ),
    // The stack creates the Bedrock guardrail and passes its id and version.
    ...(parsed.data.guardrailProvider === 'bedrock'
      ? { BEDROCK_GUARDRAIL_ID: 'synthcheck', BEDROCK_GUARDRAIL_VERSION: '1' }
      : {}),
  });
  return parsed.data;
}
