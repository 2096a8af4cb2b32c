/** The deterministic local model: answers with the user's last message, word by word when streaming. */
import { ModelError, type CompletionRequest, type ModelProvider } from './model-provider.js';

const answerTo = (request: CompletionRequest): string => {
  const last = [...request.messages].reverse().find((m) => m.role === 'user');
  return `Echo: ${last?.content ?? ''}`;
};

/**
 * Echoes the last user message, so tests and demos need no model account. It answers in full
 * whatever `maxOutputTokens` says (the answer is bounded by the message limit anyway) and reports
 * no usage: the chat service counts it with the tokenizer, marked `estimated`.
 */
export class EchoModel implements ModelProvider {
  async complete(request: CompletionRequest): Promise<string> {
    return answerTo(request);
  }

  async *stream(request: CompletionRequest): AsyncGenerator<string> {
    // Each word with the whitespace before it: the deltas concatenate to exactly the answer.
    for (const word of answerTo(request).match(/\s*\S+|\s+$/g) ?? []) {
      if (request.signal?.aborted) throw new ModelError('aborted', 'The answer is no longer wanted.');
      // A macrotask between words: a real stream's pacing, and room for a disconnect to be seen.
      await new Promise((resolve) => setImmediate(resolve));
      yield word;
    }
  }
}
