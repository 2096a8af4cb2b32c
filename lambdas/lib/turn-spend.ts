/**
 * What one chat turn may spend (design §12), begun by the HTTP layer as soon as the caller is
 * known: the pause switch is read and the reservation goes out at once, in the same wave as the
 * rate-limit checks; the chat service awaits them before the model is called (`admit`) and
 * settles the reservation with the answer write. Anything that ends the request earlier gives
 * the reservation back (`release`). Settlement and release happen once; later calls do nothing.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { requestEvent, type EventSource } from './audit-events.js';
import type { AuditLog } from './audit.js';
import type { Budgets, BudgetSubject, ReserveOutcome, Usage } from './budget.js';
import type { ChatPause } from './chat-pause.js';
import type { Config } from './config.js';
import { BudgetExceededError, ChatPausedError, ServiceUnavailableError } from './errors.js';
import { canarySecretOf, deriveCanary, withCanary } from './guardrails/leak.js';
import { loadTokenizer } from './llm/tokenizer.js';
import { reservationFor } from './metering.js';
import type { Guardrail } from './guardrails/guardrail.js';
import type { SecretProvider } from './secrets.js';

/** A turn's spending: admission before the model call, settlement after it. */
export interface TurnSpend {
  /** Throws `ChatPausedError` (503) while chat is paused, `ServiceUnavailableError` when the switch cannot be read. */
  open(): Promise<void>;
  /** `open`, then the reservation: throws `BudgetExceededError` (429) or `ServiceUnavailableError` (503). */
  admit(): Promise<void>;
  /** Charges `usage` and gives the rest of the reservation back; `answered` counts a turn. */
  settle(usage: Usage, answered: boolean): Promise<void>;
  /** Gives the whole reservation back (refused elsewhere, failed before the model, replayed). */
  release(): Promise<void>;
}

/** What a turn's spending needs of the runtime (a `Runtime` is one). */
export interface SpendDeps {
  readonly budgets: Budgets;
  readonly chatPause: ChatPause;
  readonly config: { readonly llm: Config['llm']; readonly guardrail: Pick<Config['guardrail'], 'provider'> };
  /** The guardrail in use (`null`: none); absent: the one `config.guardrail` names. */
  readonly guardrail?: Guardrail | null;
  /** The canary of the system prompt is derived from the widget signing secret. */
  readonly secrets: SecretProvider;
  readonly audit: AuditLog;
  readonly metrics?: Metrics;
  readonly clock: () => number;
}

/** What a turn is charged to, and the request for audit events. */
export interface SpendRequest {
  readonly subject: BudgetSubject;
  /** The new user message: its size bounds the reservation. */
  readonly message: string;
  readonly source: EventSource;
}

/**
 * The system prompt the model will be sent: the configured one with the guardrail's canary line
 * (design §13). Worked out from the canary's derivation, not by loading the guardrail, so the
 * HTTP layer of every function does not bundle the guardrail's detectors.
 */
async function promptSent(runtime: SpendDeps): Promise<string> {
  const base = runtime.config.llm.systemPrompt;
  if (runtime.guardrail !== undefined) return runtime.guardrail ? runtime.guardrail.systemPrompt(base) : base;
  if (runtime.config.guardrail.provider === 'none') return base;
  return withCanary(base, deriveCanary(await canarySecretOf(runtime.secrets)()));
}

/** Starts the pause read and the reservation for one turn; nothing is awaited here. */
export function beginSpend(runtime: SpendDeps, request: SpendRequest): TurnSpend {
  const { budgets, chatPause, config, audit, metrics, clock } = runtime;
  const paused = chatPause.isPaused();
  // The prompt the model is sent (with the guardrail's canary, design §13) bounds the reservation.
  const reserving: Promise<ReserveOutcome> = Promise.all([loadTokenizer(), promptSent(runtime)]).then(
    ([tokenizer, systemPrompt]) =>
      budgets.reserve(request.subject, reservationFor(tokenizer, { ...config.llm, systemPrompt }, request.message)),
  );
  // Both are awaited later, or never when the request fails first: never an unhandled rejection.
  paused.catch(() => undefined);
  reserving.catch(() => undefined);
  const reservation = () =>
    reserving.then((o) => (o.kind === 'reserved' ? o.reservation : undefined)).catch(() => undefined);

  const open = async () => {
    let isPaused: boolean;
    try {
      isPaused = await paused;
    } catch (error) {
      throw new ServiceUnavailableError({ cause: error });
    }
    if (isPaused) throw new ChatPausedError();
  };

  return {
    open,
    admit: async () => {
      await open();
      const outcome = await reserving;
      if (outcome.kind === 'reserved') return;
      const metric = metrics?.singleMetric();
      metric?.addDimension('scope', outcome.scope);
      metric?.addMetric('BudgetExceeded', MetricUnit.Count, 1);
      if (await budgets.firstRefusal(outcome.ref)) {
        await audit.record(requestEvent(request.source, 'budget.exceeded', clock(), { scope: outcome.scope }));
      }
      throw new BudgetExceededError(outcome.scope, outcome.retryAfter);
    },
    settle: async (usage, answered) => {
      const metric = metrics?.singleMetric();
      metric?.addMetric('ModelInputTokens', MetricUnit.Count, usage.inputTokens);
      metric?.addMetric('ModelOutputTokens', MetricUnit.Count, usage.outputTokens);
      await (await reservation())?.settle(usage, answered);
    },
    release: async () => {
      await (await reservation())?.release();
    },
  };
}
