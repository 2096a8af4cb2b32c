/** The one interface every model provider implements. */

/** A turn as the model sees it. */
export interface ModelMessage {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

/** What a provider is asked: the system prompt and the recent conversation, newest last. */
export interface CompletionRequest {
  readonly system: string;
  readonly messages: readonly ModelMessage[];
  readonly signal?: AbortSignal;
}

/** A chat model. Failures throw; the handler maps them to 502 `UPSTREAM_ERROR`. */
export interface ModelProvider {
  complete(request: CompletionRequest): Promise<string>;
}
