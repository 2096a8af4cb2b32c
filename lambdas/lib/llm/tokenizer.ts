/**
 * Token counting with a real byte-pair encoding (`gpt-tokenizer`, OpenAI's `cl100k_base`), for
 * what providers do not report: echo's usage, the reservation a turn makes before the model is
 * called, and the `CONTEXT_MAX_TOKENS` trim. The encoding's rank table (about 1 MB) is imported on
 * first use only, so functions that never count (admin, tokens) never load it; the CDK stack keeps
 * it out of the function bundles (see `lib/constructs/handler-function.ts`).
 */
import type { ModelMessage } from './model-provider.js';

/** A loaded encoding. */
export interface Tokenizer {
  /** How many tokens `text` encodes to; special-token markers in text count as plain text. */
  count(text: string): number;
}

/**
 * Chat formatting overhead: each message costs its content plus about 4 tokens of role and
 * separators, and every prompt 3 more to prime the answer (OpenAI's published counting recipe).
 */
export const TOKENS_PER_MESSAGE = 4;
export const TOKENS_PER_PROMPT = 3;

/** Text is encoded as text: a visitor typing `<|endoftext|>` must not make counting throw. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

let loading: Promise<Tokenizer> | undefined;

/** The tokenizer, loaded once per process on first call. */
export function loadTokenizer(): Promise<Tokenizer> {
  loading ??= import('gpt-tokenizer/encoding/cl100k_base').then((encoding): Tokenizer => ({
    count: (text) => (text === '' ? 0 : encoding.countTokens(text, AS_TEXT)),
  }));
  loading.catch(() => (loading = undefined));
  return loading;
}

/** The tokens one message costs in a prompt, formatting included. */
export const messageTokens = (tokenizer: Tokenizer, content: string): number =>
  tokenizer.count(content) + TOKENS_PER_MESSAGE;

/** The input tokens of a whole prompt: system prompt (when set), messages and priming. */
export function promptTokens(tokenizer: Tokenizer, system: string, messages: readonly ModelMessage[]): number {
  const systemCost = system === '' ? 0 : messageTokens(tokenizer, system);
  return messages.reduce((sum, m) => sum + messageTokens(tokenizer, m.content), systemCost + TOKENS_PER_PROMPT);
}
