/**
 * The chat service's side of the guardrails (design §13): runs the configured guardrail on a
 * turn's message and on the model's answer, and records what it found: `guardrail.blocked`,
 * `guardrail.prompt_attack` and `guardrail.prompt_leak` audit events (direction and categories,
 * never text), the `GuardrailBlocked` EMF metric by direction and category, and prompt attacks
 * in the abuse counters. A failing guardrail fails closed (503) unless `GUARDRAIL_FAIL_OPEN=true`.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { requestEvent, systemEvent, type AuditType, type EventSource } from '../audit-events.js';
import { ServiceUnavailableError } from '../errors.js';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { AuditLog } from '../audit.js';
import type { Logger } from '../logger.js';
import type { RateLimiter } from '../rate-limiter.js';
import type { SecretProvider } from '../secrets.js';
import type { GuardrailConfig } from './config.js';
import { abuseChecks } from './abuse.js';
import { PROMPT_ATTACK, PROMPT_LEAK, pass, type GuardrailDecision, type GuardrailDirection } from './guardrail.js';
import { canaryOf } from './leak.js';
import { checkedWindows, type GuardedChunk } from './stream.js';
import { createGuardrail } from './index.js';
import type { Guardrail } from './guardrail.js';

/** What the guardrails need of the runtime (a `Runtime` is one). */
export interface GuardrailDeps {
  readonly config: {
    readonly guardrail: GuardrailConfig;
    readonly rateLimit: { readonly failOpen: boolean };
    readonly llm: { readonly connectTimeoutMs: number };
  };
  readonly secrets: SecretProvider;
  readonly rateLimiter: RateLimiter;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly metrics?: Metrics;
  /** The guardrail to use (`null`: none); absent: the one `GUARDRAIL_PROVIDER` names. */
  readonly guardrail?: Guardrail | null;
}

const configured = new WeakMap<GuardrailDeps, Guardrail | null>();

/** The runtime's guardrail: the one it was given, else the configured one, made once per runtime. */
function guardrailOf(runtime: GuardrailDeps): Guardrail | null {
  if (runtime.guardrail !== undefined) return runtime.guardrail;
  let guardrail = configured.get(runtime);
  if (guardrail === undefined) {
    guardrail = createGuardrail(runtime.config, runtime.secrets) ?? null;
    configured.set(runtime, guardrail);
  }
  return guardrail;
}

/** Who a screened turn is for: the audit source and the verified user, if any. */
export interface ScreenedCaller {
  readonly requestId: string;
  readonly sessionId: string;
  readonly source?: EventSource;
  readonly userId?: string;
}

/** Records an event about the caller's request (or a system event when there is no request). */
function audit(runtime: GuardrailDeps, caller: ScreenedCaller, type: AuditType, detail: Record<string, string>) {
  const at = runtime.clock();
  const event = caller.source
    ? requestEvent(caller.source, type, at, detail)
    : systemEvent(type, at, detail, caller.requestId);
  return runtime.audit.record(event);
}

/** Records what a decision found; counts a prompt attack toward the caller's abuse limit. */
async function report(
  runtime: GuardrailDeps,
  caller: ScreenedCaller,
  direction: GuardrailDirection,
  decision: GuardrailDecision,
): Promise<void> {
  const categories = decision.categories.join(',');
  const detail = { direction, categories, sessionId: caller.sessionId };
  const records: Promise<unknown>[] = [];
  if (decision.categories.includes(PROMPT_ATTACK) && direction === 'input') {
    records.push(audit(runtime, caller, 'guardrail.prompt_attack', detail));
    if (caller.source) {
      const checks = abuseChecks(runtime.config, { ip: caller.source.ip, userId: caller.userId });
      records.push(
        Promise.all(checks.map((check) => runtime.rateLimiter.record(check))).catch((error: unknown) => {
          if (!runtime.config.rateLimit.failOpen) throw new ServiceUnavailableError({ cause: error });
          runtime.logger.error('could not count a prompt attack; failing open (RATE_LIMIT_FAIL_OPEN=true)', {
            requestId: caller.requestId,
            error,
          });
        }),
      );
    }
  }
  if (decision.categories.includes(PROMPT_LEAK)) records.push(audit(runtime, caller, 'guardrail.prompt_leak', detail));
  if (decision.action === 'block') {
    records.push(audit(runtime, caller, 'guardrail.blocked', detail));
    // The total (what the alarm watches), then one point per direction and category (the dashboard).
    runtime.metrics?.singleMetric().addMetric('GuardrailBlocked', MetricUnit.Count, 1);
    for (const category of decision.categories) {
      const metric = runtime.metrics?.singleMetric();
      metric?.addDimensions({ direction, category });
      metric?.addMetric('GuardrailBlocked', MetricUnit.Count, 1);
    }
  }
  await Promise.all(records);
}

/** Runs one check; a failure is 503, or (fail open) a pass that is logged. */
async function guarded(
  runtime: GuardrailDeps,
  caller: ScreenedCaller,
  direction: GuardrailDirection,
  text: string,
  check: () => Promise<GuardrailDecision>,
): Promise<GuardrailDecision> {
  try {
    return await check();
  } catch (error) {
    if (!runtime.config.guardrail.failOpen) {
      runtime.logger.error('guardrail unavailable', { requestId: caller.requestId, direction, error });
      throw new ServiceUnavailableError({ cause: error });
    }
    runtime.logger.error('guardrail unavailable; failing open (GUARDRAIL_FAIL_OPEN=true)', {
      requestId: caller.requestId,
      direction,
      error,
    });
    return pass(text);
  }
}

/** Checks the visitor's message; pass-through when there is no guardrail. */
export async function screenInput(
  runtime: GuardrailDeps,
  caller: ScreenedCaller,
  text: string,
): Promise<GuardrailDecision> {
  const guardrail = guardrailOf(runtime);
  if (!guardrail) return pass(text);
  const decision = await guarded(runtime, caller, 'input', text, () => guardrail.checkInput(text));
  await report(runtime, caller, 'input', decision);
  return decision;
}

/** Checks the whole answer (or one window of it, after `before`). */
export async function screenOutput(
  runtime: GuardrailDeps,
  caller: ScreenedCaller,
  text: string,
  systemPrompt: string,
  before = '',
): Promise<GuardrailDecision> {
  const guardrail = guardrailOf(runtime);
  if (!guardrail) return pass(text);
  const decision = await guarded(runtime, caller, 'output', text, () =>
    guardrail.checkOutput(text, { systemPrompt, before }),
  );
  await report(runtime, caller, 'output', decision);
  return decision;
}

/** The system prompt to send: with the guardrail's canary, when there is a guardrail. */
export async function guardedSystemPrompt(runtime: GuardrailDeps, base: string): Promise<string> {
  const guardrail = guardrailOf(runtime);
  return guardrail ? guardrail.systemPrompt(base) : base;
}

/**
 * A model stream as the reader may see it: checked windows (design §13), or the deltas as they
 * come when there is no guardrail. A failing check throws `ServiceUnavailableError`.
 */
export function screenStream(
  runtime: GuardrailDeps,
  caller: ScreenedCaller,
  deltas: AsyncIterable<string>,
  systemPrompt: string,
): AsyncIterable<GuardedChunk> {
  if (!guardrailOf(runtime)) return unguarded(deltas);
  return checkedWindows(
    deltas,
    (window, before) => screenOutput(runtime, caller, window, systemPrompt, before),
    runtime.config.guardrail.streamWindowChars,
    canaryOf(systemPrompt),
  );
}

async function* unguarded(deltas: AsyncIterable<string>): AsyncGenerator<GuardedChunk> {
  for await (const text of deltas) yield { kind: 'text', text };
}
