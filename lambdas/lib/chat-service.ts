/**
 * One chat turn: claim the session and read the recent context (in parallel), store the user's
 * message before the model is called, ask the model, store the answer. At most three sequential
 * DynamoDB round trips. The same preparation serves the JSON answer and the streamed one.
 */
import type { AppError, ErrorCode } from './errors.js';
import { ServiceUnavailableError, UpstreamError } from './errors.js';
import { ModelError, type CompletionRequest } from './llm/index.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { ConversationStore } from './conversation.js';
import type { ModelProvider } from './llm/index.js';
import type { ChatRequest } from './schemas.js';
import { visitorView, type ChatMessage, type ConversationSummary, type Owner } from './conversation.js';
import type { EventSource } from './audit-events.js';
import {
  guardedSystemPrompt,
  screenInput,
  screenOutput,
  screenStream,
  type GuardrailDeps,
} from './guardrails/screen.js';
import { iso } from './time.js';
import { loadTokenizer } from './llm/tokenizer.js';
import { CallMeter, trimContext } from './metering.js';
import type { TurnSpend } from './turn-spend.js';

/** What a chat turn needs of the runtime (a `Runtime` is one): the conversations, the model, its settings, a clock, a logger, and what the guardrails need. */
export interface ChatDeps extends GuardrailDeps {
  readonly conversations: ConversationStore;
  readonly model: ModelProvider;
  readonly config: { readonly llm: Config['llm'] } & GuardrailDeps['config'];
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
  /** The request, for audit events and abuse counting (design §13). */
  readonly source?: EventSource;
  /** The turn's budget reservation and the pause switch (design §12), begun by the HTTP layer. */
  readonly spend?: TurnSpend;
  /**
   * The session's summary, read by the HTTP layer with the security checks: with it the claim
   * and the user's message are one conditional write (issue 20).
   */
  readonly seen?: Promise<ConversationSummary | undefined>;
}

/** Who asks for a turn, as the HTTP layer verified it. */
export interface TurnCaller {
  /** The verified widget token's user, when a token was presented. */
  readonly token?: { readonly userId: string };
  /** The request's allowed Origin, if any. */
  readonly corsOrigin?: string;
  readonly requestId: string;
  /** The request as audit events describe it. */
  readonly ip?: string;
  readonly method?: string;
  readonly route?: string;
  readonly actor?: string;
  readonly spend?: TurnSpend;
  readonly seen?: Promise<ConversationSummary | undefined>;
}

/** The turn a validated chat request asks for: the token's user owns it, or nobody (anonymous). */
export function chatTurnOf(body: ChatRequest, caller: TurnCaller): ChatTurn {
  return {
    sessionId: body.sessionId,
    message: body.message,
    owner: caller.token ? { kind: 'user', userId: caller.token.userId } : { kind: 'anonymous' },
    origin: caller.corsOrigin,
    requestId: caller.requestId,
    ...(caller.spend ? { spend: caller.spend } : {}),
    ...(caller.seen ? { seen: caller.seen } : {}),
    ...(caller.ip === undefined
      ? {}
      : {
          source: {
            ip: caller.ip,
            method: caller.method ?? 'POST',
            route: caller.route ?? '-',
            requestId: caller.requestId,
            ...(caller.actor === undefined ? {} : { actor: caller.actor }),
          },
        }),
  };
}

/** The guardrails' view of a turn's caller. */
const callerOf = (turn: ChatTurn) => ({
  requestId: turn.requestId,
  sessionId: turn.sessionId,
  source: turn.source,
  userId: turn.owner.kind === 'user' ? turn.owner.userId : undefined,
});

/** A turn whose user message is stored: what the model is asked, and how its answer is kept. */
export interface PreparedTurn {
  readonly request: Omit<CompletionRequest, 'signal'>;
  /** Set when a guardrail blocked the message: the stored answer; the model is not called. */
  readonly blocked?: { message: ChatMessage; key: string };
  /**
   * Stores the answer (marked partial when cut short, or blocked) and returns it with its key;
   * `generated` is what the model produced when a blocked answer replaced it (the usage counts it).
   */
  finish(
    content: string,
    partial?: boolean,
    blocked?: boolean,
    generated?: string,
  ): Promise<{ message: ChatMessage; key: string }>;
  /**
   * Gives back the answer's slot when there is no answer to keep; `error` is why and `generated`
   * what the model produced before it ended (both for what is charged).
   */
  abandon(error?: unknown, generated?: string): Promise<void>;
  /** Gives back the answer's slot and the whole reservation: the turn was never run (no model call). */
  cancel(): Promise<void>;
}

/** Claims the session, stores the user's message and builds the model request. */
export async function prepareTurn(runtime: ChatDeps, turn: ChatTurn): Promise<PreparedTurn> {
  const { conversations, config, clock, logger } = runtime;
  // Paused or over budget: refused before anything is checked, stored or sent to a model.
  await turn.spend?.admit();
  // Before anything is stored: only the checked (masked) message is ever kept or sent.
  const screened = await screenInput(runtime, callerOf(turn), turn.message);
  const system = await guardedSystemPrompt(runtime, config.llm.systemPrompt);
  const now = clock();
  const userMessage: ChatMessage = {
    role: 'user',
    content: screened.text,
    createdAt: iso(now),
    ...(screened.action === 'block' ? { blocked: true as const } : {}),
  };
  /** Gives back reserved slots nothing was stored in, so `messageCount` stays the number stored. */
  const release = async (count: number) => {
    await conversations.releaseTurn(turn.sessionId, count).catch((error: unknown) => {
      logger.error('could not release unused message slots', { requestId: turn.requestId, count, error });
    });
  };
  const claim = { sessionId: turn.sessionId, owner: turn.owner, origin: turn.origin, count: 2, now };
  // One conditional write claims the session and stores the message, next to the context read
  // (issue 20). Not for an idempotent request: its retry must first see what an earlier attempt
  // stored. Otherwise (or when the session changed since it was read) claim first, then store.
  const seen = turn.turnKey === undefined ? turn.seen : undefined;
  const [claimed, history, tokenizer] = await Promise.all([
    seen !== undefined
      ? seen.then((summary) => conversations.claimWithMessage({ ...claim, seen: summary, message: userMessage }))
      : conversations.beginTurn(claim).then((seq) => ({ seq, key: undefined })),
    conversations.recentMessages(turn.sessionId, config.llm.contextMessages + 1, now),
    loadTokenizer(),
  ]);
  const { seq } = claimed;
  const last = history.at(-1);
  const retried = turn.turnKey !== undefined && last?.role === 'user' && last.turnKey === turn.turnKey;
  let answerSeq: number;
  let context: readonly ChatMessage[];
  if (claimed.key !== undefined) {
    answerSeq = seq + 1;
    // The context read ran alongside the write: it may already hold the new message.
    context = [...history.filter((m) => m.key !== claimed.key), userMessage].slice(-config.llm.contextMessages);
  } else if (retried) {
    // The first attempt stored this message and then failed: answer it, reserve one slot only.
    await conversations.releaseTurn(turn.sessionId, 1);
    answerSeq = seq;
    context = history.slice(-config.llm.contextMessages);
  } else {
    try {
      await conversations.appendMessage(turn.sessionId, seq, userMessage, now, turn.turnKey);
    } catch (error) {
      await release(2);
      throw error;
    }
    answerSeq = seq + 1;
    context = [...history, userMessage].slice(-config.llm.contextMessages);
  }
  // Blocked messages and the answers that replaced them never reach the model; the rest is trimmed
  // oldest-first to `CONTEXT_MAX_TOKENS` (design §12).
  const messages = trimContext(
    tokenizer,
    context.filter((m) => !m.blocked),
    config.llm.contextMaxTokens,
  ).map(({ role, content }) => ({ role, content }));
  const meter = new CallMeter(tokenizer, system, messages);
  /** Stores the answer; its usage is settled with the same write (none when no model was called). */
  const store = async (content: string, partial: boolean, blocked: boolean, generated: string | undefined) => {
    const answeredAt = Math.max(clock(), now + 1);
    const usage = generated === undefined ? undefined : meter.usage(generated);
    const message: ChatMessage = {
      role: 'assistant',
      content,
      createdAt: iso(answeredAt),
      ...(partial ? { partial: true as const } : {}),
      ...(blocked ? { blocked: true as const } : {}),
      ...(usage ? { usage } : {}),
    };
    try {
      // The settlement goes out with the answer write, not after it.
      const [key] = await Promise.all([
        conversations.appendMessage(turn.sessionId, answerSeq, message, answeredAt),
        usage ? turn.spend?.settle(usage, true) : turn.spend?.release(),
      ]);
      return { message, key };
    } catch (error) {
      await release(1);
      throw error;
    }
  };
  const prepared: PreparedTurn = {
    request: { system, messages, maxOutputTokens: config.llm.maxOutputTokens, onUsage: meter.onUsage },
    finish: (content, partial = false, blocked = false, generated = content) =>
      store(content, partial, blocked, generated),
    abandon: async (error, generated = '') => {
      await Promise.all([release(1), turn.spend?.settle(meter.failedUsage(error, generated), false)]);
    },
    cancel: async () => {
      await Promise.all([release(1), turn.spend?.release()]);
    },
  };
  if (screened.action !== 'block') return prepared;
  // Blocked before the model: nothing was spent.
  return { ...prepared, blocked: await store(config.guardrail.blockedMessage, false, true, undefined) };
}

/** Logs a failed model call by its reason (never the prompt or the answer). */
function logModelFailure(runtime: ChatDeps, turn: ChatTurn, error: unknown): void {
  const reason = error instanceof ModelError ? error.reason : 'provider';
  const details = { requestId: turn.requestId, provider: runtime.config.llm.provider, reason, error };
  // The caller giving up (its hang-up, or the deadline) is not the provider failing.
  if (reason === 'aborted') runtime.logger.info('model call abandoned', details);
  else runtime.logger.warn('model call failed', details);
}

/** Runs one turn to completion and returns the assistant's message and its key. */
export async function runChatTurn(
  runtime: ChatDeps,
  turn: ChatTurn,
  signal?: AbortSignal,
): Promise<{ message: ChatMessage; key: string }> {
  const prepared = await prepareTurn(runtime, turn);
  if (prepared.blocked) return prepared.blocked;
  let content: string;
  try {
    content = await runtime.model.complete({ ...prepared.request, signal });
  } catch (error) {
    logModelFailure(runtime, turn, error);
    await prepared.abandon(error);
    throw new UpstreamError({ cause: error });
  }
  const checked = await screenOutput(runtime, callerOf(turn), content, prepared.request.system).catch(
    async (error: unknown) => {
      await prepared.abandon();
      throw error;
    },
  );
  if (checked.action === 'block') {
    return prepared.finish(runtime.config.guardrail.blockedMessage, false, true, content);
  }
  return prepared.finish(checked.text);
}

/** The events of `POST /v1/chat/stream` (design §3). */
export type StreamEvent =
  | { readonly type: 'start'; readonly sessionId: string }
  | { readonly type: 'token'; readonly delta: string }
  | { readonly type: 'done'; readonly sessionId: string; readonly message: ChatMessage }
  | { readonly type: 'error'; readonly error: { readonly code: ErrorCode; readonly message: string } };

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
  if (prepared.blocked) {
    yield { type: 'done', sessionId: turn.sessionId, message: visitorView(prepared.blocked.message) };
    return;
  }
  /** What was released to the reader. */
  let content = '';
  /** What the model produced, released or not (held in a window, or blocked): what an estimate counts. */
  let generated = '';
  let blocked = false;
  let settled = false;
  const keepWhatWeHave = async (error?: unknown) => {
    settled = true;
    try {
      if (content === '') await prepared.abandon(error, generated);
      else await prepared.finish(content, true, false, generated);
    } catch (error) {
      runtime.logger.error('could not store the partial answer', { requestId: turn.requestId, error });
    }
  };
  try {
    try {
      // Only text the output checks passed is released (design §13).
      const deltas = counted(runtime.model.stream({ ...prepared.request, signal }), (delta) => (generated += delta));
      for await (const chunk of screenStream(runtime, callerOf(turn), deltas, prepared.request.system)) {
        if (chunk.kind === 'blocked') {
          blocked = true;
          break;
        }
        content += chunk.text;
        yield { type: 'token', delta: chunk.text };
      }
    } catch (error) {
      // A guardrail that cannot answer is 503, as before the stream (design §13).
      const unavailable = error instanceof ServiceUnavailableError;
      if (!unavailable) logModelFailure(runtime, turn, error);
      await keepWhatWeHave(error);
      yield errorEvent(unavailable ? error : new UpstreamError());
      return;
    }
    settled = true;
    const { message } = blocked
      ? await prepared.finish(runtime.config.guardrail.blockedMessage, false, true, generated)
      : await prepared.finish(content, false, false, generated);
    yield { type: 'done', sessionId: turn.sessionId, message: visitorView(message) };
  } catch (error) {
    runtime.logger.error('could not store the streamed answer', { requestId: turn.requestId, error });
    yield errorEvent(new ServiceUnavailableError());
  } finally {
    // The reader left at a `token`: keep the partial answer.
    if (!settled) await keepWhatWeHave();
  }
}

/** Passes `deltas` through, telling `onDelta` each one as it comes. */
async function* counted(deltas: AsyncIterable<string>, onDelta: (delta: string) => void): AsyncGenerator<string> {
  for await (const delta of deltas) {
    onDelta(delta);
    yield delta;
  }
}
