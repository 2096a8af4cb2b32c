/**
 * Conversations, the domain's view (design §8): who owns a session, what a stored message looks
 * like, and the port the chat service and admin routes use. The DynamoDB adapter is
 * `stores/conversation-store.ts`; tests may pass a fake.
 */
import type { Usage } from './budget.js';
import type { Page, PagePosition } from './page.js';

/** Who a session belongs to: an anonymous widget or a verified user. */
export type Owner = { readonly kind: 'anonymous' } | { readonly kind: 'user'; readonly userId: string };

/** How an owner is written in keys and on the `META` item: `user:<id>` or `anonymous`. */
export const ownerValue = (owner: Owner): string => (owner.kind === 'user' ? `user:${owner.userId}` : 'anonymous');

/** The owner a caller would be: the verified user of its token, else anonymous. */
export const ownerOf = (userId: string | undefined): Owner =>
  userId === undefined ? { kind: 'anonymous' } : { kind: 'user', userId };

/**
 * A session as one owner would use it: `<sessionId>|<owner value>`. A session only serves callers
 * with its owner's value, so what is counted under this key (the session rate tier, the session
 * budget) is never consumed by a stranger's requests, which are refused with 404.
 */
export const sessionOwnerKey = (sessionId: string, owner: Owner): string => `${sessionId}|${ownerValue(owner)}`;

/** Who wrote a message: the visitor or the model. */
export type MessageRole = 'user' | 'assistant';

/** A message as stored and returned. */
export interface ChatMessage {
  readonly role: MessageRole;
  readonly content: string;
  readonly createdAt: string;
  /** Set on an answer that was cut short (the model failed or the client left mid-stream). */
  readonly partial?: true;
  /** On answers: the tokens the model call consumed (design §12). */
  readonly usage?: Usage;
  /** Set on a message a guardrail blocked (stored masked) and on the answer that replaced it (design §13). */
  readonly blocked?: true;
}

/**
 * A message as the widget may see it: without `usage`, which design §12 shows to admins only (a
 * visitor learns nothing about the operator's metering or budgets from its answers).
 */
export function visitorView(message: ChatMessage): ChatMessage {
  if (message.usage === undefined) return message;
  const shown: { -readonly [K in keyof ChatMessage]: ChatMessage[K] } = { ...message };
  delete shown.usage;
  return shown;
}

/** A message as the chat service reads it back: with its key and the turn that stored it. */
export interface StoredMessage extends ChatMessage {
  /** Where the message is stored within its session (for `getMessage`). */
  readonly key: string;
  /** The opaque id of the idempotent request that stored it, if any. */
  readonly turnKey?: string;
}

/** The `META` item of a conversation, as shown to admins. */
export interface ConversationSummary {
  readonly sessionId: string;
  readonly userId: string | null;
  readonly origin: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly messageCount: number;
}

/** What claiming a session takes: its owner-to-be, the caller's origin, how many sequence numbers, when. */
export interface ClaimInput {
  readonly sessionId: string;
  readonly owner: Owner;
  readonly origin: string | undefined;
  readonly count: number;
  readonly now: number;
}

/** A claim that also stores `message`, given the session's summary as read before (`seen`). */
export interface ClaimWithMessageInput extends ClaimInput {
  readonly seen: ConversationSummary | undefined;
  readonly message: ChatMessage;
}

/** Storage of conversations; the DynamoDB implementation is below, tests may pass a fake. */
export interface ConversationStore {
  /**
   * Claims `sessionId` for `owner` (creating it when new) and reserves `count` message sequence
   * numbers, returning the first. Throws `NotFoundError` when the session belongs to someone else.
   */
  beginTurn(input: ClaimInput): Promise<number>;
  /**
   * Claims `sessionId` for `owner`, reserving `count` sequence numbers from the returned one,
   * and stores `message` under it in the same conditional write (a transaction) when the session
   * is still as `seen` (its summary read earlier; undefined: it did not exist); `key` is then the
   * stored message's. When the session changed since it was read, or the engine has no
   * transactions, it only claims, as `beginTurn` (no `key`): the caller stores the message with
   * `appendMessage`. Throws `NotFoundError` when the session belongs to someone else. No message
   * is ever stored in a session its caller does not own.
   */
  claimWithMessage(input: ClaimWithMessageInput): Promise<{ seq: number; key?: string }>;
  /**
   * Stores one message under a sequence number reserved by `beginTurn`, tagged with `turnKey`
   * when an idempotent request stores it; returns its key.
   */
  appendMessage(sessionId: string, seq: number, message: ChatMessage, now: number, turnKey?: string): Promise<string>;
  /** One message by the key `appendMessage` returned, or undefined when it is gone or expired. */
  getMessage(sessionId: string, key: string, now: number): Promise<ChatMessage | undefined>;
  /** Gives back sequence numbers that were reserved but not used (a failed model call). */
  releaseTurn(sessionId: string, count: number): Promise<void>;
  /** The last `limit` unexpired messages, oldest first. */
  recentMessages(sessionId: string, limit: number, now: number): Promise<StoredMessage[]>;
  /** One conversation's summary, or undefined when it does not exist or has expired. */
  get(sessionId: string, now: number): Promise<ConversationSummary | undefined>;
  /** A page of one conversation's messages, oldest first. */
  messages(sessionId: string, limit: number, from: PagePosition | undefined, now: number): Promise<Page<ChatMessage>>;
  /** A page of conversations, newest first, optionally of one user; undefined for a position that does not fit. */
  list(
    input: { limit: number; userId?: string; from?: PagePosition },
    now: number,
  ): Promise<Page<ConversationSummary> | undefined>;
  /** Erases every item of a conversation; returns how many items were deleted. */
  delete(sessionId: string): Promise<number>;
}
