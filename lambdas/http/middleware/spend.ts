/**
 * Chat routes only, just before rate limiting: begins the turn's spending (design §12), so the
 * pause read and the budget reservations go out in the same wave as the rate-limit checks
 * instead of one more round trip; and reads the session's summary in that wave too (issue 20). Nothing is awaited here; the chat service admits the turn
 * before the model call. Whatever ends the request without settling (a 429 from the rate limiter,
 * a validation error, a replayed answer, a failure before the model) gives the reservation back.
 * A streamed answer settles itself when the stream ends.
 */
import type { MiddlewareObj } from '@middy/core';
import { clientKey } from '../../lib/rate-limiter.js';
import type { Runtime } from '../../lib/runtime.js';
import { chatRequestSchema } from '../../lib/schemas.js';
import { beginSpend } from '../../lib/turn-spend.js';
import type { AppRequest } from '../request.js';

export interface SpendOptions {
  readonly runtime: Runtime;
  /** Whether the route streams its answer (the stream, not the chain, then settles). */
  readonly stream: boolean;
}

/** Creates the spend middleware for one chat route. */
export function spend(options: SpendOptions): MiddlewareObj {
  const { runtime, stream } = options;
  const giveBack = async (request: AppRequest) => {
    await request.context.app?.spend?.release();
  };
  return {
    before: (request: AppRequest) => {
      const state = request.context.app;
      // A body that will fail validation reserves nothing; validation answers it.
      const body = chatRequestSchema.safeParse(state.body);
      if (!body.success) return;
      // The session's META item joins the security reads: the turn then claims and stores at once.
      state.seen = runtime.conversations.get(body.data.sessionId, runtime.clock());
      state.seen.catch(() => undefined);
      state.spend = beginSpend(runtime, {
        subject: {
          sessionId: body.data.sessionId,
          clientKey: clientKey(state.ip),
          ...(state.token ? { userId: state.token.userId } : {}),
        },
        message: body.data.message,
        source: state,
      });
    },
    after: stream ? undefined : giveBack,
    onError: giveBack,
  } as MiddlewareObj;
}
