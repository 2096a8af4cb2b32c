/**
 * Any OpenAI-compatible `/chat/completions` endpoint, with and without `stream`. Written on
 * node:http(s) rather than fetch because fetch has no connect timeout of its own; the total
 * time is bounded by `BoundedModel`, which aborts the request through the signal.
 */
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import { ModelError, type CompletionRequest, type ModelProvider } from './model-provider.js';

/** The largest answer body accepted, streamed or not; a provider that sends more is failed. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface OpenAiCompatibleModelOptions {
  /** The API base, up to and including its version (`https://api.openai.com/v1`). */
  readonly baseUrl: string;
  readonly model: string;
  /** Returns the API key; called per request, so a cached secret can change under it. */
  readonly apiKey: () => Promise<string>;
  /** How long establishing the connection (TCP and TLS) may take. */
  readonly connectTimeoutMs: number;
}

/** A `ModelProvider` over the OpenAI chat completions API. */
export class OpenAiCompatibleModel implements ModelProvider {
  readonly #url: URL;
  readonly #options: OpenAiCompatibleModelOptions;
  readonly #agent: HttpAgent;

  constructor(options: OpenAiCompatibleModelOptions) {
    this.#options = options;
    this.#url = new URL(`${options.baseUrl.replace(/\/+$/, '')}/chat/completions`);
    this.#agent =
      this.#url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  async complete(request: CompletionRequest): Promise<string> {
    const response = await this.#post(request, false);
    const body = parseJson(await readAll(response));
    const content = body?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new ModelError('malformed', 'The model answer has no message content.');
    reportUsage(body, request);
    return content;
  }

  async *stream(request: CompletionRequest): AsyncGenerator<string> {
    const response = await this.#post(request, true);
    let received = 0;
    let pending = '';
    for await (const chunk of response as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > MAX_RESPONSE_BYTES) throw tooLarge(response);
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice('data:'.length).trim();
        if (data === '[DONE]') return;
        const parsed = parseJson(data);
        // With `include_usage`, the last chunk before [DONE] has the usage and no choices.
        reportUsage(parsed, request);
        const delta: unknown = parsed?.choices?.[0]?.delta?.content;
        if (delta === undefined || delta === null) continue;
        if (typeof delta !== 'string') throw new ModelError('malformed', 'A stream chunk has a non-text delta.');
        if (delta !== '') yield delta;
      }
    }
    throw new ModelError('malformed', 'The model stream ended without [DONE].');
  }

  /** Sends the request and resolves with a 2xx response; anything else is a `ModelError`. */
  async #post(request: CompletionRequest, stream: boolean): Promise<IncomingMessage> {
    const apiKey = await this.#options.apiKey();
    const body = JSON.stringify({
      model: this.#options.model,
      stream,
      // `max_tokens` rather than `max_completion_tokens`: every OpenAI-compatible server takes it.
      ...(request.maxOutputTokens === undefined ? {} : { max_tokens: request.maxOutputTokens }),
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      messages: [
        { role: 'system', content: request.system },
        ...request.messages.map(({ role, content }) => ({ role, content })),
      ],
    });
    const send = this.#url.protocol === 'https:' ? httpsRequest : httpRequest;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(this.#url, {
        method: 'POST',
        agent: this.#agent,
        signal: request.signal,
        headers: {
          Authorization: `Bearer ${apiKey}`,
          'Content-Type': 'application/json',
          Accept: stream ? 'text/event-stream' : 'application/json',
          'Content-Length': Buffer.byteLength(body),
        },
      });
      req.on('socket', (socket: Socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(
          () => req.destroy(new ModelError('timeout', `No connection within ${this.#options.connectTimeoutMs} ms.`)),
          this.#options.connectTimeoutMs,
        );
        socket.once(this.#url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      req.on('response', resolve);
      req.on('error', (error) =>
        reject(
          error instanceof ModelError
            ? error
            : new ModelError('network', 'The model endpoint could not be reached.', { cause: error }),
        ),
      );
      req.end(body);
    });
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      // The error body may echo the prompt: it is dropped, only the status is reported.
      response.resume();
      throw new ModelError('http_status', `The model endpoint answered HTTP ${status}.`);
    }
    return response;
  }
}

function tooLarge(response: IncomingMessage): ModelError {
  response.destroy();
  return new ModelError('too_large', `The model answer is larger than ${MAX_RESPONSE_BYTES} bytes.`);
}

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) throw tooLarge(response);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The parsed completion shape we read, loosely typed; anything else is reported as malformed. */
interface CompletionShape {
  choices?: Array<{ message?: { content?: unknown }; delta?: { content?: unknown } }>;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** Passes the endpoint's `usage` on, when it has a well-formed one (servers without usage send none). */
function reportUsage(body: CompletionShape | undefined, request: CompletionRequest): void {
  const usage = body?.usage;
  if (!usage || !isCount(usage.prompt_tokens) || !isCount(usage.completion_tokens)) return;
  request.onUsage?.({ inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens });
}

function parseJson(text: string): CompletionShape | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object') throw new Error('not an object');
    return value;
  } catch (error) {
    throw new ModelError('malformed', 'The model answered with malformed JSON.', { cause: error });
  }
}
