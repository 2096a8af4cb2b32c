/**
 * Metering of one model call (design §12): what a turn reserves before the call, how its context
 * is trimmed to `CONTEXT_MAX_TOKENS`, and the usage it is charged after: the provider's own
 * report when there is one, else a count with the BPE tokenizer, marked `estimated`.
 */
import type { Usage } from './budget.js';
import { ModelError, type ModelMessage, type ReportedUsage } from './llm/index.js';
import { messageTokens, promptTokens, TOKENS_PER_PROMPT, type Tokenizer } from './llm/tokenizer.js';

/** The per-call caps. */
export interface CallCaps {
  readonly systemPrompt: string;
  readonly contextMaxTokens: number;
  readonly maxOutputTokens: number;
}

/**
 * The most a turn whose new message is `message` can cost: the system prompt, a context of at most
 * `CONTEXT_MAX_TOKENS` (or the new message alone when it is larger: it is always sent), and a full
 * answer. Known before the history is read, so it is reserved in the same wave as the rate limits.
 */
export function reservationFor(tokenizer: Tokenizer, caps: CallCaps, message: string): number {
  const system = caps.systemPrompt === '' ? 0 : messageTokens(tokenizer, caps.systemPrompt);
  const context = Math.max(caps.contextMaxTokens, messageTokens(tokenizer, message));
  return system + TOKENS_PER_PROMPT + context + caps.maxOutputTokens;
}

/** The newest messages whose tokens fit in `maxTokens`, oldest dropped first; the newest is always kept. */
export function trimContext<M extends ModelMessage>(
  tokenizer: Tokenizer,
  messages: readonly M[],
  maxTokens: number,
): M[] {
  const kept: M[] = [];
  let total = 0;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i] as M;
    total += messageTokens(tokenizer, message.content);
    if (kept.length > 0 && total > maxTokens) break;
    kept.unshift(message);
  }
  return kept;
}

/** Failures where the provider took nothing: it refused the request, or it was never reached. */
const NOTHING_CONSUMED: ReadonlySet<string> = new Set(['http_status', 'network']);

/** Collects the usage of one call. */
export class CallMeter {
  readonly #tokenizer: Tokenizer;
  readonly #inputTokens: number;
  #reported: ReportedUsage | undefined;

  constructor(tokenizer: Tokenizer, system: string, messages: readonly ModelMessage[]) {
    this.#tokenizer = tokenizer;
    this.#inputTokens = promptTokens(tokenizer, system, messages);
  }

  /** Pass as the request's `onUsage`. */
  readonly onUsage = (usage: ReportedUsage): void => {
    this.#reported = usage;
  };

  /** The usage of a call that produced `content`: as reported, else counted (estimated). */
  usage(content: string): Usage {
    if (this.#reported) return { ...this.#reported, estimated: false };
    return { inputTokens: this.#inputTokens, outputTokens: this.#tokenizer.count(content), estimated: true };
  }

  /**
   * The usage of a call that failed or was cut short after producing `content`: the input is
   * charged unless the provider refused or was never reached, since it may have been processed.
   */
  failedUsage(error: unknown, content: string): Usage {
    if (this.#reported) return { ...this.#reported, estimated: false };
    const reason = error instanceof ModelError ? error.reason : 'provider';
    if (content === '' && NOTHING_CONSUMED.has(reason)) return { inputTokens: 0, outputTokens: 0, estimated: true };
    return this.usage(content);
  }
}
