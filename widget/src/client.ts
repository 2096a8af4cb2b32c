/**
 * The HTTP side of the widget: one chat turn against `POST /v1/chat/stream` (or `POST /v1/chat`),
 * with the widget key, an optional widget token from the page's `getToken()`, exactly one token
 * refresh on `TOKEN_EXPIRED` and one fresh session when the stored one belongs to someone else.
 */
import { ChatError } from './errors.js';
import { readEvents } from './sse.js';

/** Returns a widget token for the signed-in user, or nothing to chat anonymously. */
export type GetToken = () => string | null | undefined | Promise<string | null | undefined>;

/** Where the widget keeps its session id. */
export interface Session {
  /** The current session id. */
  id(): string;
  /** Replaces the session id with a fresh random one. */
  renew(): void;
}

export interface ChatClientOptions {
  /** The API base URL (the stack's `ApiUrl`, or `http://127.0.0.1:3000` locally). */
  readonly apiUrl: string;
  readonly widgetKey: string;
  /** @default none: a visitor token of the widget's own (anonymous mode) */
  readonly getToken?: GetToken;
  /**
   * Deployed with `visitorChallenge=waf`: the AWS WAF JavaScript integration URL of the API's web
   * ACL; anonymous mode then pays for visitor tokens with the WAF's challenge.
   * @default none: a proof of work
   */
  readonly wafIntegrationUrl?: string;
  /** Called when the API refused the current token, before `getToken` is asked again. @default none */
  readonly forgetToken?: () => void;
  /** Stream the answer (`/v1/chat/stream`) or wait for it whole (`/v1/chat`). @default true */
  readonly stream?: boolean;
  /** @default the global fetch */
  readonly fetch?: typeof fetch;
}

/** What a turn yields: pieces of the answer as they arrive, then the whole answer. */
export type ChatEvent =
  { readonly type: 'token'; readonly delta: string } | { readonly type: 'done'; readonly content: string };

/** Parses `Retry-After` (delay seconds; an HTTP date is treated as unknown). */
function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? Math.max(1, n) : undefined;
}

interface ErrorBody {
  error?: { code?: unknown; retry_after?: unknown };
}

/** The contract's error body of `response` as a `ChatError`. */
export async function errorFrom(response: Response): Promise<ChatError> {
  let body: ErrorBody | undefined;
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    body = undefined;
  }
  const code = typeof body?.error?.code === 'string' ? body.error.code : `HTTP_${response.status}`;
  const retryAfter = seconds(response.headers.get('Retry-After')) ?? seconds(body?.error?.retry_after);
  return new ChatError(code, response.status, retryAfter);
}

interface StreamEvent {
  type?: unknown;
  delta?: unknown;
  message?: { content?: unknown };
  error?: { code?: unknown };
}

/** The contract's events, turned into `ChatEvent`s; anything malformed ends the turn as interrupted. */
async function* streamed(response: Response): AsyncGenerator<ChatEvent> {
  if (!response.body) throw new ChatError('STREAM_INTERRUPTED', 0);
  for await (const data of readEvents(response.body)) {
    let event: StreamEvent;
    try {
      event = JSON.parse(data) as StreamEvent;
    } catch {
      throw new ChatError('STREAM_INTERRUPTED', 0);
    }
    if (event.type === 'token' && typeof event.delta === 'string') {
      yield { type: 'token', delta: event.delta };
    } else if (event.type === 'done' && typeof event.message?.content === 'string') {
      yield { type: 'done', content: event.message.content };
      return;
    } else if (event.type === 'error') {
      throw new ChatError(typeof event.error?.code === 'string' ? event.error.code : 'UPSTREAM_ERROR', 502);
    }
  }
  throw new ChatError('STREAM_INTERRUPTED', 0);
}

/** Sends chat turns for one widget. */
export class ChatClient {
  private readonly endpoint: URL;
  private readonly options: ChatClientOptions;
  private token: string | undefined;

  constructor(options: ChatClientOptions) {
    const base = new URL(options.apiUrl);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.endpoint = new URL(options.stream === false ? 'v1/chat' : 'v1/chat/stream', base);
    this.options = options;
  }

  /** One chat turn: yields the answer's pieces, then the whole answer; throws `ChatError`. */
  async *send(session: Session, message: string, signal?: AbortSignal): AsyncGenerator<ChatEvent> {
    let refreshed = false;
    let renewed = false;
    for (;;) {
      const response = await this.post(session.id(), message, await this.currentToken(), signal);
      if (response.ok) {
        if ((response.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) {
          yield* streamed(response);
        } else {
          yield { type: 'done', content: await wholeAnswer(response) };
        }
        return;
      }
      const error = await errorFrom(response);
      if (error.code === 'TOKEN_EXPIRED' && this.options.getToken && !refreshed) {
        refreshed = true;
        this.dropToken();
        continue;
      }
      // A stored session started by another identity (or anonymously) is not ours: start a new one.
      if (error.code === 'NOT_FOUND' && !renewed) {
        renewed = true;
        session.renew();
        continue;
      }
      if (error.status === 401) this.dropToken();
      throw error;
    }
  }

  private dropToken(): void {
    this.token = undefined;
    this.options.forgetToken?.();
  }

  private async currentToken(): Promise<string | undefined> {
    const { getToken } = this.options;
    if (!getToken || this.token !== undefined) return this.token;
    let token: string | null | undefined;
    try {
      token = await getToken();
    } catch {
      throw new ChatError('TOKEN_UNAVAILABLE', 0);
    }
    this.token = token || undefined;
    return this.token;
  }

  private async post(
    sessionId: string,
    message: string,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      Accept: 'text/event-stream, application/json',
      'X-Widget-Api-Key': this.options.widgetKey,
    };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    try {
      return await (this.options.fetch ?? fetch)(this.endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify({ sessionId, message }),
        credentials: 'omit',
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ChatError('NETWORK_ERROR', 0);
    }
  }
}

async function wholeAnswer(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { message?: { content?: unknown } };
    if (typeof body.message?.content === 'string') return body.message.content;
  } catch {
    // Falls through to the same error as a malformed body.
  }
  throw new ChatError('STREAM_INTERRUPTED', 0);
}
