/**
 * Emits `conversation.created` and `message.created` from the conversation store, so the chat
 * code stays unaware of webhooks. A session's message 1 (sequence numbers start at 1) is written exactly once (a conditional
 * put), which makes it the moment the conversation was created.
 */
import type { ConversationStore } from '../conversation.js';
import { conversationCreated, messageCreated } from './events.js';
import type { WebhookPublisher } from './publisher.js';

/** The sequence number of a session's first message. */
const FIRST_SEQUENCE = 1;

/** `store`, publishing an event for every message stored. */
export function withConversationEvents(store: ConversationStore, publisher: WebhookPublisher): ConversationStore {
  /** The events of message `seq`, just stored. */
  const published = async (sessionId: string, seq: number, role: string, now: number) => {
    await Promise.all([
      seq === FIRST_SEQUENCE ? publisher.publish(conversationCreated(sessionId, now)) : undefined,
      publisher.publish(messageCreated(sessionId, role, seq, now)),
    ]);
  };
  return {
    beginTurn: (input) => store.beginTurn(input),
    claimWithMessage: async (input) => {
      const stored = await store.claimWithMessage(input);
      if (stored.key !== undefined) await published(input.sessionId, stored.seq, input.message.role, input.now);
      return stored;
    },
    appendMessage: async (sessionId, seq, message, now, turnKey) => {
      const key = await store.appendMessage(sessionId, seq, message, now, turnKey);
      await published(sessionId, seq, message.role, now);
      return key;
    },
    getMessage: (sessionId, key, now) => store.getMessage(sessionId, key, now),
    releaseTurn: (sessionId, count) => store.releaseTurn(sessionId, count),
    recentMessages: (sessionId, limit, now) => store.recentMessages(sessionId, limit, now),
    get: (sessionId, now) => store.get(sessionId, now),
    messages: (sessionId, limit, from, now) => store.messages(sessionId, limit, from, now),
    list: (input, now) => store.list(input, now),
    delete: (sessionId) => store.delete(sessionId),
  };
}
