/**
 * What the widget shows when a turn fails: one friendly sentence per error code of the contract,
 * never the server's own text (and never anything the model produced).
 */

/** A failed chat turn, with the contract's error code. */
export class ChatError extends Error {
  readonly code: string;
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** Seconds to wait before retrying (429 only). */
  readonly retryAfter: number | undefined;

  constructor(code: string, status: number, retryAfter?: number) {
    super(code);
    this.name = 'ChatError';
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

const MESSAGES: Readonly<Record<string, string>> = {
  TOKEN_EXPIRED: 'Your session has expired. Please sign in again.',
  UNAUTHORIZED: 'You are not signed in to the chat. Please sign in again.',
  TOKEN_UNAVAILABLE: 'You are not signed in to the chat. Please sign in again.',
  FORBIDDEN: 'This chat is not available here.',
  ORIGIN_NOT_ALLOWED: 'This chat is not available on this site.',
  VALIDATION_FAILED: 'That message could not be sent. Messages can be up to 4,000 characters.',
  PAYLOAD_TOO_LARGE: 'That message is too long. Messages can be up to 4,000 characters.',
  // No response at all. Besides a lost connection, this is what a browser reports for a 429 from the
  // WAF or API Gateway itself: those carry no Access-Control-Allow-Origin, so the page cannot read them.
  NETWORK_ERROR:
    "Can't reach the chat service right now: the connection dropped, or too many requests were sent. Please try again shortly.",
  SERVICE_UNAVAILABLE: 'The chat service is temporarily unavailable. Please try again in a little while.',
  BUDGET_EXCEEDED: "You've reached today's chat limit. Please come back tomorrow.",
  CHAT_PAUSED: 'The chat is paused for the moment. Please try again later.',
};

const UNAVAILABLE = 'The assistant could not answer just now. Please try again.';
const UNKNOWN = 'Something went wrong. Please try again.';

/** The sentence to show for `error`. */
export function friendlyMessage(error: ChatError): string {
  // A daily limit is a 429 too, but waiting a few seconds will not help.
  if (error.code === 'BUDGET_EXCEEDED') return MESSAGES.BUDGET_EXCEEDED as string;
  if (error.code === 'RATE_LIMIT_EXCEEDED' || error.status === 429) {
    const wait = error.retryAfter;
    if (wait === undefined) return 'You are sending messages too quickly. Please wait a moment and try again.';
    return `You are sending messages too quickly. Please try again in ${wait} second${wait === 1 ? '' : 's'}.`;
  }
  return MESSAGES[error.code] ?? (error.status >= 500 || error.status === 0 ? UNAVAILABLE : UNKNOWN);
}
