/**
 * Amazon Bedrock through the Converse API (`Converse`, and `ConverseStream` when streaming).
 * The function's IAM policy allows only `BEDROCK_MODEL_ID`; the client is injectable for tests.
 * The SDK client is imported on the first call: every API function bundles this module, and only
 * the chat functions of a Bedrock deployment should pay for loading it at cold start.
 */
import type { BedrockRuntimeClient, Message, TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import { lazyBedrockRuntime, type BedrockRuntime } from './bedrock-runtime.js';
import { ModelError, type CompletionRequest, type ModelMessage, type ModelProvider } from './model-provider.js';

export interface BedrockModelOptions {
  readonly modelId: string;
  /** How long establishing the connection may take; ignored when `client` is given. */
  readonly connectTimeoutMs: number;
  /** @default a client for the function's region */
  readonly client?: BedrockRuntimeClient;
}

/** Error events a Converse stream can carry instead of content. */
const STREAM_ERRORS = [
  'internalServerException',
  'modelStreamErrorException',
  'serviceUnavailableException',
  'throttlingException',
  'validationException',
] as const;

/**
 * Converse wants the conversation to start with the user and to alternate roles; recent context
 * can start with an answer, or hold two user turns in a row after a failed answer.
 */
export function toConverseMessages(messages: readonly ModelMessage[]): Message[] {
  const out: Message[] = [];
  for (const { role, content } of messages) {
    if (out.length === 0 && role !== 'user') continue;
    const last = out.at(-1);
    if (last?.role === role) last.content = [{ text: `${last.content?.[0]?.text ?? ''}\n\n${content}` }];
    else out.push({ role, content: [{ text: content }] });
  }
  return out;
}

/** Passes Converse `usage` on, when it is there. */
function reportUsage(usage: TokenUsage | undefined, request: CompletionRequest): void {
  if (usage?.inputTokens === undefined || usage.outputTokens === undefined) return;
  request.onUsage?.({ inputTokens: usage.inputTokens, outputTokens: usage.outputTokens });
}

/** A `ModelProvider` over Bedrock's Converse API. */
export class BedrockModel implements ModelProvider {
  readonly #modelId: string;
  readonly #load: () => Promise<BedrockRuntime>;

  constructor(options: BedrockModelOptions) {
    this.#load = lazyBedrockRuntime(options);
    this.#modelId = options.modelId;
  }

  #input(request: CompletionRequest) {
    return {
      modelId: this.#modelId,
      system: request.system === '' ? undefined : [{ text: request.system }],
      messages: toConverseMessages(request.messages),
      ...(request.maxOutputTokens === undefined ? {} : { inferenceConfig: { maxTokens: request.maxOutputTokens } }),
    };
  }

  async complete(request: CompletionRequest): Promise<string> {
    const { sdk, client } = await this.#load();
    const output = await client.send(new sdk.ConverseCommand(this.#input(request)), {
      abortSignal: request.signal,
    });
    const blocks = output.output?.message?.content ?? [];
    const text = blocks.map((block) => block.text ?? '').join('');
    if (blocks.length === 0) throw new ModelError('malformed', 'The model answer has no content.');
    reportUsage(output.usage, request);
    return text;
  }

  async *stream(request: CompletionRequest): AsyncGenerator<string> {
    const { sdk, client } = await this.#load();
    const output = await client.send(new sdk.ConverseStreamCommand(this.#input(request)), {
      abortSignal: request.signal,
    });
    if (!output.stream) throw new ModelError('malformed', 'The model answer has no stream.');
    let stopped = false;
    for await (const event of output.stream) {
      const failure = STREAM_ERRORS.find((name) => event[name] !== undefined);
      if (failure) throw new ModelError('provider', `The model stream failed: ${failure}.`);
      const text = event.contentBlockDelta?.delta?.text;
      if (text) yield text;
      if (event.messageStop) stopped = true;
      // The usage comes in the `metadata` event, after `messageStop`.
      if (event.metadata) reportUsage(event.metadata.usage, request);
    }
    if (!stopped) throw new ModelError('malformed', 'The model stream ended without messageStop.');
  }
}
