/**
 * The end of steps 6 and 7: the verdicts of the security checks begun before it (`deferCheck`: revocation, rate
 * limits), taken in the order the checks were begun, so a revoked token is refused as revoked
 * even when it is also over a rate limit. Their DynamoDB calls (with the budget reservations the
 * spend step began) went out together: one round trip instead of one per check (issue 20).
 */
import type { MiddlewareObj } from '@middy/core';
import type { AppRequest } from '../request.js';

/** Creates the middleware that awaits every deferred check; the first refusal is thrown. */
export function awaitChecks(): MiddlewareObj {
  return {
    before: async (request: AppRequest) => {
      for (const check of request.context.app.checks ?? []) await check;
    },
  } as MiddlewareObj;
}
