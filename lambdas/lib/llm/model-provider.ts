/** The one interface every model provider implements, and the error they fail with. */

/** A turn as the model sees it. */
export interface ModelMessage {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

/** What a provider is asked: the system prompt and the recent conversation, newest last. */
export interface CompletionRequest {
  readonly system: string;
  readonly messages: readonly ModelMessage[];
  /** Aborted when the answer is no longer wanted (timeout, client gone); providers stop their call. */
  readonly signal?: AbortSignal;
  /** The most tokens the answer may have (`MODEL_MAX_OUTPUT_TOKENS`); providers pass it on. */
  readonly maxOutputTokens?: number;
  /** Called with the usage the provider reports for this call, if it reports any (design §12). */
  readonly onUsage?: (usage: ReportedUsage) => void;
}

/** Tokens a provider says one call consumed. */
export interface ReportedUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** A chat model. Failures throw; the chat service maps them to 502 `UPSTREAM_ERROR` or an `error` event. */
export interface ModelProvider {
  /** The whole answer at once. */
  complete(request: CompletionRequest): Promise<string>;
  /** The answer as it is generated, as text deltas whose concatenation is the answer. */
  stream(request: CompletionRequest): AsyncIterable<string>;
}

/** Why a model call failed; `reason` goes to logs and metrics, never to clients. */
export type ModelFailure = 'http_status' | 'malformed' | 'timeout' | 'aborted' | 'network' | 'too_large' | 'provider';

/** A model call that failed. The message names the failure, never the prompt or the answer. */
export class ModelError extends Error {
  readonly reason: ModelFailure;
  constructor(reason: ModelFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelError';
    this.reason = reason;
  }
}
