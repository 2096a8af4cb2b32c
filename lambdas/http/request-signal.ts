/**
 * When to stop a request's work. Deployed, API Gateway REST does not tell a Lambda that its client
 * has gone, so work is bounded by the Lambda deadline; a host that can tell (the local server, from
 * its socket) attaches a `clientGone` signal to the context it passes, and work stops at once.
 */
import type { Context } from 'aws-lambda';

/** Where a host puts the signal that fires when the client disconnects. */
export const CLIENT_GONE: unique symbol = Symbol.for('chat-widget.client-gone');

/** A Lambda context, possibly with the host's disconnect signal. */
export type DisconnectAwareContext = Context & { readonly [CLIENT_GONE]?: AbortSignal };

/** Time kept before the Lambda deadline to give back reserved slots and answer, instead of being killed. */
export const DEADLINE_MARGIN_MS = 1000;

/**
 * A signal that aborts when the client disconnects (hosts that can tell) or `DEADLINE_MARGIN_MS`
 * before the Lambda deadline (`context.getRemainingTimeInMillis`), whichever comes first; never,
 * for a context with neither.
 */
export function requestSignal(context: DisconnectAwareContext): AbortSignal {
  const signals: AbortSignal[] = [];
  const gone = context[CLIENT_GONE];
  if (gone) signals.push(gone);
  if (typeof context.getRemainingTimeInMillis === 'function') {
    signals.push(AbortSignal.timeout(Math.max(0, context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS)));
  }
  return signals.length === 0 ? new AbortController().signal : AbortSignal.any(signals);
}
