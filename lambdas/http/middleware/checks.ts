/**
 * The end of steps 6 and 7: the verdicts of the security checks begun before it (`deferCheck`: revocation, rate
 * limits), taken in the order the checks were begun, so a revoked token is refused as revoked
 * even when it is also over a rate limit. Their DynamoDB calls (with the budget reservations the
 * spend step began) went out together: one round trip instead of one per check (issue 20).
 */
import type { MiddlewareObj } from '@middy/core';
import type { AppRequest } from '../request.js';

/**
 * Creates the middleware that takes every deferred check's verdict in order. The first refusal
 * is thrown once every later check has been undone (a revoked token then spends nothing of its
 * user's rate limits); a failed undo is logged by its store's caller and never hides the refusal.
 */
export function awaitChecks(): MiddlewareObj {
  return {
    before: async (request: AppRequest) => {
      let refusal: unknown;
      let refused = false;
      for (const pending of request.context.app.checks ?? []) {
        if (refused) {
          await pending.then((check) => check.undo?.()).catch(() => undefined);
          continue;
        }
        try {
          await (await pending).verdict();
        } catch (error) {
          refusal = error;
          refused = true;
        }
      }
      if (refused) throw refusal;
    },
  } as MiddlewareObj;
}
