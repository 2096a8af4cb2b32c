/**
 * The one failure path of authentication: every refused credential is counted towards the
 * client's failed-authentication lockout, audited, and answered 401, or 429 once the client is
 * locked out (so the answer no longer tells a guesser anything). A valid credential without the
 * route's role is 403 and is neither counted nor audited here: it is not a guess.
 */
import type { AuditLog } from '../../../lib/audit.js';
import { requestEvent, type AuditType } from '../../../lib/audit-events.js';
import { ForbiddenError, RateLimitError, UnauthorizedError, type AppError } from '../../../lib/errors.js';
import type { LimitCheck, RateLimiter } from '../../../lib/rate-limiter.js';
import type { AppRequest } from '../../request.js';
import { BEARER_CHALLENGE } from './authorization.js';

/** The failed-authentication lockout; when its counter store is down: 503, or no lockout when `failOpen`. */
export interface Lockout {
  readonly limiter: RateLimiter;
  readonly check: (request: AppRequest) => LimitCheck;
  readonly failOpen: boolean;
}

export interface FailureOptions {
  /** The credential the route takes, as audited (`widget`, `admin`, `server`). */
  readonly credential: string;
  /** Whether the route takes a bearer key (its 401 then carries the `Bearer` challenge). */
  readonly bearer: boolean;
  readonly lockout?: Lockout;
  readonly audit: AuditLog;
  readonly clock: () => number;
}

/** Refuses a request; each function throws, so a check can `return fail…(…)` from any branch. */
export interface Failures {
  /** Counts, audits `type` with `reason` (and `detail`), then throws the lockout 429 or `error`. */
  fail(
    request: AppRequest,
    type: AuditType,
    reason: string,
    error: AppError,
    detail?: Readonly<Record<string, string>>,
  ): Promise<never>;
  /** A missing or wrong key: `auth.failure`, 401 (with the `Bearer` challenge on bearer routes). */
  keyFailure(request: AppRequest, reason: string): Promise<never>;
  /** A revoked or expired managed key: `key.rejected`, 401. */
  keyRejected(request: AppRequest, reason: string, keyId: string): Promise<never>;
  /** A valid credential whose role does not cover the route: 403. */
  forbidden(): never;
}

/** Creates the failure path of one route's authentication. */
export function failures(options: FailureOptions): Failures {
  const { lockout, audit, clock } = options;
  const challenge = options.bearer ? BEARER_CHALLENGE : {};

  /** Counts a failure for the client; returns the lockout error once the client is past its limit. */
  const countFailure = async (request: AppRequest): Promise<AppError | undefined> => {
    if (!lockout) return undefined;
    try {
      const { exhausted, retryAfter } = await lockout.limiter.record(lockout.check(request));
      return exhausted ? new RateLimitError(retryAfter) : undefined;
    } catch (error) {
      if (lockout.failOpen) return undefined;
      throw error;
    }
  };

  const fail: Failures['fail'] = async (request, type, reason, error, detail = {}) => {
    const lockedOut = await countFailure(request);
    await audit.record(
      requestEvent(request.context.app, type, clock(), {
        reason: reason.slice(0, 64),
        credential: type === 'token.invalid' ? 'widget-token' : options.credential,
        ...detail,
      }),
    );
    throw lockedOut ?? error;
  };

  return {
    fail,
    keyFailure: (request, reason) =>
      fail(request, 'auth.failure', reason, new UnauthorizedError(undefined, { headers: challenge })),
    keyRejected: (request, reason, keyId) =>
      fail(request, 'key.rejected', reason, new UnauthorizedError(undefined, { headers: challenge }), { keyId }),
    forbidden: () => {
      throw new ForbiddenError();
    },
  };
}
