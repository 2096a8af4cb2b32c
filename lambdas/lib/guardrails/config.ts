/**
 * The guardrail variables of design §13, parsed with the rest of the configuration: the zod
 * fragment `config.ts` spreads into its schema, and the checks across variables (entities the
 * chosen provider can detect, the Bedrock guardrail id when it is the provider).
 */
import * as z from 'zod';
import { int } from '../env-values.js';
import { BEDROCK_PII_ENTITIES, LOCAL_PII_ENTITIES, type LocalPiiEntity, type PiiEntity } from './entities.js';

/** The answer shown instead of blocked text (design §13). */
export const DEFAULT_BLOCKED_MESSAGE = "Sorry, I can't help with that.";

const items = (list: string) =>
  list
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

const commaList = z
  .string()
  .optional()
  .transform((v) => items(v ?? ''));

/** The guardrail part of the environment schema. */
export const guardrailEnv = {
  GUARDRAIL_PROVIDER: z
    .enum(['local', 'bedrock', 'none'], { error: 'must be one of local, bedrock, none' })
    .default('local'),
  /** Unset or empty: the local entities; `none`: no PII check. */
  GUARDRAIL_PII_ENTITIES: z
    .string()
    .optional()
    .transform((v) =>
      v === undefined || v.trim() === '' ? [...LOCAL_PII_ENTITIES] : v.trim() === 'none' ? [] : items(v),
    ),
  GUARDRAIL_PII_ACTION: z.enum(['mask', 'block'], { error: 'must be "mask" or "block"' }).default('mask'),
  GUARDRAIL_DENY_WORDS: commaList,
  GUARDRAIL_PROMPT_ATTACK: z
    .enum(['block', 'flag', 'off'], { error: 'must be one of block, flag, off' })
    .default('block'),
  GUARDRAIL_ABUSE_LIMIT: int(5, 1, 1_000_000),
  GUARDRAIL_BLOCKED_MESSAGE: z.string().trim().min(1).max(1000).default(DEFAULT_BLOCKED_MESSAGE),
  GUARDRAIL_STREAM_WINDOW_CHARS: int(200, 20, 10_000),
  GUARDRAIL_FAIL_OPEN: z
    .enum(['true', 'false'], { error: 'must be "true" or "false"' })
    .default('false')
    .transform((v) => v === 'true'),
  BEDROCK_GUARDRAIL_ID: z
    .string()
    .regex(/^(?:[a-z0-9]+|arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:guardrail\/[a-z0-9]+)$/, {
      error: 'must be a guardrail id or ARN',
    })
    .optional(),
  BEDROCK_GUARDRAIL_VERSION: z
    .string()
    .regex(/^(?:[1-9]\d{0,7}|DRAFT)$/, { error: 'must be a version number or DRAFT' })
    .optional(),
};

type GuardrailEnv = z.output<z.ZodObject<typeof guardrailEnv>>;

/** The validated guardrail settings. */
export interface GuardrailConfig {
  readonly provider: 'local' | 'bedrock' | 'none';
  readonly piiEntities: readonly PiiEntity[];
  readonly piiAction: 'mask' | 'block';
  readonly denyWords: readonly string[];
  readonly promptAttack: 'block' | 'flag' | 'off';
  /** Prompt attacks per rate-limit window, per IP and per user, before every chat request is 429. */
  readonly abuseLimit: number;
  readonly blockedMessage: string;
  /** A stream releases output in windows of at most this many characters (or at sentence ends). */
  readonly streamWindowChars: number;
  readonly failOpen: boolean;
  readonly bedrockGuardrailId: string | undefined;
  readonly bedrockGuardrailVersion: string | undefined;
}

/** The guardrail settings of a parsed environment, and every problem across its variables. */
export function guardrailConfigOf(e: GuardrailEnv): { config: GuardrailConfig; problems: string[] } {
  const problems: string[] = [];
  const known = new Set<string>(BEDROCK_PII_ENTITIES);
  const local = new Set<string>(LOCAL_PII_ENTITIES);
  for (const entity of e.GUARDRAIL_PII_ENTITIES) {
    if (!known.has(entity)) {
      problems.push(`GUARDRAIL_PII_ENTITIES has ${JSON.stringify(entity)}: not a Bedrock PII entity type`);
    } else if (e.GUARDRAIL_PROVIDER === 'local' && !local.has(entity)) {
      problems.push(
        `GUARDRAIL_PII_ENTITIES has ${entity}, which GUARDRAIL_PROVIDER=local cannot detect (it detects ${LOCAL_PII_ENTITIES.join(', ')})`,
      );
    }
  }
  if (e.GUARDRAIL_PROVIDER === 'bedrock' && (!e.BEDROCK_GUARDRAIL_ID || !e.BEDROCK_GUARDRAIL_VERSION)) {
    problems.push('GUARDRAIL_PROVIDER=bedrock needs BEDROCK_GUARDRAIL_ID and BEDROCK_GUARDRAIL_VERSION');
  }
  return {
    problems,
    config: {
      provider: e.GUARDRAIL_PROVIDER,
      piiEntities: e.GUARDRAIL_PII_ENTITIES as PiiEntity[],
      piiAction: e.GUARDRAIL_PII_ACTION,
      denyWords: e.GUARDRAIL_DENY_WORDS,
      promptAttack: e.GUARDRAIL_PROMPT_ATTACK,
      abuseLimit: e.GUARDRAIL_ABUSE_LIMIT,
      blockedMessage: e.GUARDRAIL_BLOCKED_MESSAGE,
      streamWindowChars: e.GUARDRAIL_STREAM_WINDOW_CHARS,
      failOpen: e.GUARDRAIL_FAIL_OPEN,
      bedrockGuardrailId: e.BEDROCK_GUARDRAIL_ID,
      bedrockGuardrailVersion: e.BEDROCK_GUARDRAIL_VERSION,
    },
  };
}

/** The entities the local guardrail checks (the config check guarantees they are all local ones). */
export const localEntities = (config: GuardrailConfig): LocalPiiEntity[] =>
  config.piiEntities.filter((e): e is LocalPiiEntity => (LOCAL_PII_ENTITIES as readonly string[]).includes(e));
