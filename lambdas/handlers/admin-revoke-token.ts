/**
 * `POST /v1/admin/tokens/revoke` (admin key): revokes one token by `jti`, one token by its
 * value (its `jti`, or its hash when it has none), or every token of a user issued until now.
 */
import { decodeJwt } from 'jose';
import { ValidationError } from '../lib/errors.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { empty } from '../http/responses.js';
import { CLOCK_TOLERANCE_SECONDS, revocationIdOf } from '../lib/tokens.js';
import { requestEvent } from '../lib/audit-events.js';

export const { handler, build, facts } = defineHandler(
  route('POST /v1/admin/tokens/revoke'),
  async ({ body, state, runtime }) => {
    const now = Math.floor(runtime.clock() / 1000);
    // No token outlives this: the longest lifetime plus the clock tolerance.
    const horizon = now + runtime.config.widgetTokenMaxTtlSeconds + CLOCK_TOLERANCE_SECONDS;
    let detail: Record<string, string>;
    if ('userId' in body) {
      await runtime.revocations.revokeUser(body.userId, now, horizon - now);
      detail = { by: 'userId', userId: body.userId };
    } else if ('jti' in body) {
      await runtime.revocations.revokeToken(body.jti, horizon);
      detail = { by: 'jti', jti: body.jti };
    } else {
      let claims: ReturnType<typeof decodeJwt>;
      try {
        claims = decodeJwt(body.token);
      } catch (error) {
        throw new ValidationError('The request is not valid.', [{ path: 'body.token', message: 'is not a JWT' }], {
          cause: error,
        });
      }
      const jti = typeof claims.jti === 'string' ? claims.jti : undefined;
      const exp = typeof claims.exp === 'number' ? Math.min(claims.exp + CLOCK_TOLERANCE_SECONDS, horizon) : horizon;
      await runtime.revocations.revokeToken(revocationIdOf(body.token, jti), Math.max(exp, now + 1));
      detail = { by: 'token', ...(jti === undefined ? {} : { jti }) };
    }
    await runtime.audit.record(requestEvent(state, 'token.revoked', runtime.clock(), detail));
    return empty(204);
  },
);
