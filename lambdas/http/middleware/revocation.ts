/**
 * Step 6: revocation. A verified widget token is looked up (strongly consistent) by its `jti`
 * (or hash) and by its user; a revoked one is 401 and audited as `token.invalid` (reason `revoked`;
 * aggregated like other unauthenticated failures, so replaying a stolen token cannot flood the
 * audit table). When the store
 * cannot answer the request fails closed with 503 (the DynamoDB client maps the error).
 */
import type { MiddlewareObj } from '@middy/core';
import { type AuditLog } from '../../lib/audit.js';
import { requestEvent } from '../../lib/audit-events.js';
import { deferCheck, type AppRequest } from '../request.js';
import type { RevocationStore } from '../../lib/revocation.js';
import { InvalidTokenError } from '../../lib/errors.js';

export interface RevocationOptions {
  readonly store: RevocationStore;
  readonly audit: AuditLog;
  readonly clock: () => number;
}

/** Creates the revocation middleware; it does nothing for requests without a token. */
export function revocation(options: RevocationOptions): MiddlewareObj {
  const { store, audit, clock } = options;
  return {
    before: (request: AppRequest) => {
      const state = request.context.app;
      const token = state.token;
      if (!token) return;
      // Taken by `awaitChecks`, first: the lookup goes out with the rate-limit calls.
      deferCheck(
        state,
        store.isRevoked(token, clock()).then((revoked) => ({
          verdict: async () => {
            if (!revoked) return;
            await audit.record(requestEvent(state, 'token.invalid', clock(), { reason: 'revoked' }));
            throw new InvalidTokenError('revoked');
          },
        })),
      );
    },
  } as MiddlewareObj;
}
