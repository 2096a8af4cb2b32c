/** The deterministic local model: answers with the user's last message, word by word when streaming. */
import { ModelError, type CompletionRequest, type ModelProvider } from './model-provider.js';
import { loadTokenizer } from './tokenizer.js';

/** The echo, cut to `maxOutputTokens` tokens as a real model's answer would be. Echo reports no usage. */
const answerTo = async (request: CompletionRequest): Promise<string> => {
  const last = [...request.messages].reverse().find((m) => m.role === 'user');
  const answer = `Echo: ${last?.content ?? ''}`;
  if (request.maxOutputTokens === undefined) return answer;
  return (await loadTokenizer()).truncate(answer, request.maxOutputTokens);
};

/** Echoes the last user message, so tests and demos need no model account. */
export class EchoModel implements ModelProvider {
  async complete(request: CompletionRequest): Promise<string> {
    return answerTo(request);
  }

  async *stream(request: CompletionRequest): AsyncGenerator<string> {
    // Each word with the whitespace before it: the deltas concatenate to exactly the answer.
    for (const word of (await answerTo(request)).match(/\s*\S+|\s+$/g) ?? []) {
      if (request.signal?.aborted) throw new ModelError('aborted', 'The answer is no longer wanted.');
      // A macrotask between words: a real stream's pacing, and room for a disconnect to be seen.
      await new Promise((resolve) => setImmediate(resolve));
      yield word;
    }
  }
}
