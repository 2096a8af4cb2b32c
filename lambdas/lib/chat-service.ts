/**
 * One chat turn: claim the session and read the recent context (in parallel), store the user's
 * message before the model is called, ask the model, store the answer. At most three sequential
 * DynamoDB round trips. The same preparation serves the JSON answer and the streamed one.
 */
import type { AppError } from './errors.js';
import { ServiceUnavailableError, UpstreamError } from './errors.js';
import { ModelError, type CompletionRequest } from './llm/index.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { ConversationStore } from './conversation.js';
import type { ModelProvider } from './llm/index.js';
import type { ChatRequest } from './schemas.js';
import type { ChatMessage, Owner } from './conversation.js';
import { iso } from './time.js';

/** What a chat turn needs of the runtime (a `Runtime` is one): the conversations, the model, its settings, a clock and a logger. */
export interface ChatDeps {
  readonly conversations: ConversationStore;
  readonly model: ModelProvider;
  readonly config: { readonly llm: Config['llm'] };
  readonly clock: () => number;
  readonly logger: Logger;
}

export interface ChatTurn {
  readonly sessionId: string;
  readonly message: string;
  readonly owner: Owner;
  readonly origin: string | undefined;
  readonly requestId: string;
  /**
   * Opaque id of an idempotent request: a retry of a turn whose answer failed reuses the user
   * message stored by the first attempt instead of storing it twice.
   */
  readonly turnKey?: string;
}

/** Who asks for a turn, as the HTTP layer verified it. */
export interface TurnCaller {
  /** The verified widget token's user, when a token was presented. */
  readonly token?: { readonly userId: string };
  /** The request's allowed Origin, if any. */
  readonly corsOrigin?: string;
  readonly requestId: string;
}

/** The turn a validated chat request asks for: the token's user owns it, or nobody (anonymous). */
export function chatTurnOf(body: ChatRequest, caller: TurnCaller): ChatTurn {
  return {
    sessionId: body.sessionId,
    message: body.message,
    owner: caller.token ? { kind: 'user', userId: caller.token.userId } : { kind: 'anonymous' },
    origin: caller.corsOrigin,
    requestId: caller.requestId,
  };
}

/** A turn whose user message is stored: what the model is asked, and how its answer is kept. */
export interface PreparedTurn {
  readonly request: Omit<CompletionRequest, 'signal'>;
  /** Stores the answer (marked partial when cut short) and returns it with its key. */
  finish(content: string, partial?: boolean): Promise<{ message: ChatMessage; key: string }>;
  /** Gives back the answer's slot when there is no answer to keep. */
  abandon(): Promise<void>;
}

/** Claims the session, stores the user's message and builds the model request. */
export async function prepareTurn(runtime: ChatDeps, turn: ChatTurn): Promise<PreparedTurn> {
  const { conversations, config, clock, logger } = runtime;
  const now = clock();
  const [seq, history] = await Promise.all([
    conversations.beginTurn({ sessionId: turn.sessionId, owner: turn.owner, origin: turn.origin, count: 2, now }),
    conversations.recentMessages(turn.sessionId, config.llm.contextMessages, now),
  ]);
  const last = history.at(-1);
  const retried = turn.turnKey !== undefined && last?.role === 'user' && last.turnKey === turn.turnKey;
  let answerSeq: number;
  let context: readonly ChatMessage[];
  /** Gives back reserved slots nothing was stored in, so `messageCount` stays the number stored. */
  const release = async (count: number) => {
    await conversations.releaseTurn(turn.sessionId, count).catch((error: unknown) => {
      logger.error('could not release unused message slots', { requestId: turn.requestId, count, error });
    });
  };
  if (retried) {
    // The first attempt stored this message and then failed: answer it, reserve one slot only.
    await conversations.releaseTurn(turn.sessionId, 1);
    answerSeq = seq;
    context = history;
  } else {
    const userMessage: ChatMessage = { role: 'user', content: turn.message, createdAt: iso(now) };
    try {
      await conversations.appendMessage(turn.sessionId, seq, userMessage, now, turn.turnKey);
    } catch (error) {
      await release(2);
      throw error;
    }
    answerSeq = seq + 1;
    context = [...history, userMessage].slice(-config.llm.contextMessages);
  }
  return {
    request: {
      system: config.llm.systemPrompt,
      messages: context.map(({ role, content }) => ({ role, content })),
    },
    finish: async (content, partial = false) => {
      const answeredAt = Math.max(clock(), now + 1);
      const message: ChatMessage = {
        role: 'assistant',
        content,
        createdAt: iso(answeredAt),
        ...(partial ? { partial: true as const } : {}),
      };
      try {
        const key = await conversations.appendMessage(turn.sessionId, answerSeq, message, answeredAt);
        return { message, key };
      } catch (error) {
        await release(1);
        throw error;
      }
    },
    abandon: () => release(1),
  };
}

/** Logs a failed model call by its reason (never the prompt or the answer). */
function logModelFailure(runtime: ChatDeps, turn: ChatTurn, error: unknown): void {
  const reason = error instanceof ModelError ? error.reason : 'provider';
  runtime.logger.warn('model call failed', {
    requestId: turn.requestId,
    provider: runtime.config.llm.provider,
    reason,
    error,
  });
}

/** Runs one turn to completion and returns the assistant's message and its key. */
export async function runChatTurn(
  runtime: ChatDeps,
  turn: ChatTurn,
  signal?: AbortSignal,
): Promise<{ message: ChatMessage; key: string }> {
  const prepared = await prepareTurn(runtime, turn);
  let content: string;
  try {
    content = await runtime.model.complete({ ...prepared.request, signal });
  } catch (error) {
    logModelFailure(runtime, turn, error);
    await prepared.abandon();
    throw new UpstreamError({ cause: error });
  }
  return prepared.finish(content);
}

/** The events of `POST /v1/chat/stream` (design §3). */
export type StreamEvent =
  | { readonly type: 'start'; readonly sessionId: string }
  | { readonly type: 'token'; readonly delta: string }
  | { readonly type: 'done'; readonly sessionId: string; readonly message: ChatMessage }
  | { readonly type: 'error'; readonly error: { readonly code: string; readonly message: string } };

const errorEvent = (error: AppError): StreamEvent => ({
  type: 'error',
  error: { code: error.code, message: error.message },
});

/**
 * Streams the answer to a prepared turn. Never throws: a failure after `start` is an `error`
 * event. Whatever was generated is stored when the turn ends early, marked partial, whether the
 * model failed or the reader went away (then `signal` has stopped the model call).
 */
export async function* streamChatTurn(
  runtime: ChatDeps,
  turn: ChatTurn,
  prepared: PreparedTurn,
  signal: AbortSignal,
): AsyncGenerator<StreamEvent> {
  yield { type: 'start', sessionId: turn.sessionId };
  let content = '';
  let settled = false;
  const keepWhatWeHave = async () => {
    settled = true;
    try {
      if (content === '') await prepared.abandon();
      else await prepared.finish(content, true);
    } catch (error) {
      runtime.logger.error('could not store the partial answer', { requestId: turn.requestId, error });
    }
  };
  try {
    try {
      for await (const delta of runtime.model.stream({ ...prepared.request, signal })) {
        content += delta;
        yield { type: 'token', delta };
      }
    } catch (error) {
      logModelFailure(runtime, turn, error);
      await keepWhatWeHave();
      yield errorEvent(new UpstreamError());
      return;
    }
    settled = true;
    const { message } = await prepared.finish(content);
    yield { type: 'done', sessionId: turn.sessionId, message };
  } catch (error) {
    runtime.logger.error('could not store the streamed answer', { requestId: turn.requestId, error });
    yield errorEvent(new ServiceUnavailableError());
  } finally {
    // The reader left at a `token`: keep the partial answer.
    if (!settled) await keepWhatWeHave();
  }
}
