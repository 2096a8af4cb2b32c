/** The deterministic local model: answers with the user's last message. */
import type { CompletionRequest, ModelProvider } from './model-provider.js';

/** Echoes the last user message, so tests and demos need no model account. */
export class EchoModel implements ModelProvider {
  async complete(request: CompletionRequest): Promise<string> {
    const last = [...request.messages].reverse().find((m) => m.role === 'user');
    return `Echo: ${last?.content ?? ''}`;
  }
}
