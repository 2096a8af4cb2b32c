/**
 * One chat turn: claim the session, store the user's message before the model is called, ask the
 * model with the recent context, store the answer. At most three sequential DynamoDB round trips.
 */
import { UpstreamError } from './errors.js';
import type { Runtime } from './runtime.js';
import type { ChatMessage, Owner } from './stores/conversation-store.js';
import { iso } from './time.js';

export interface ChatTurn {
  readonly sessionId: string;
  readonly message: string;
  readonly owner: Owner;
  readonly origin: string | undefined;
  readonly requestId: string;
}

/** Runs one turn and returns the assistant's message. */
export async function runChatTurn(runtime: Runtime, turn: ChatTurn): Promise<ChatMessage> {
  const { conversations, config, model, clock, logger } = runtime;
  const now = clock();
  const [seq, history] = await Promise.all([
    conversations.beginTurn({ sessionId: turn.sessionId, owner: turn.owner, origin: turn.origin, count: 2, now }),
    conversations.recentMessages(turn.sessionId, config.llm.contextMessages - 1, now),
  ]);
  const userMessage: ChatMessage = { role: 'user', content: turn.message, createdAt: iso(now) };
  await conversations.appendMessage(turn.sessionId, seq, userMessage, now);

  let content: string;
  try {
    content = await model.complete({
      system: config.llm.systemPrompt,
      messages: [...history, userMessage].map(({ role, content: text }) => ({ role, content: text })),
    });
  } catch (error) {
    await conversations.releaseTurn(turn.sessionId, 1).catch((releaseError: unknown) => {
      logger.error('could not release the unused message slot', { requestId: turn.requestId, error: releaseError });
    });
    throw new UpstreamError({ cause: error });
  }
  const answeredAt = Math.max(clock(), now + 1);
  const reply: ChatMessage = { role: 'assistant', content, createdAt: iso(answeredAt) };
  await conversations.appendMessage(turn.sessionId, seq + 1, reply, answeredAt);
  return reply;
}
