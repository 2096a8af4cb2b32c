/**
 * Step 7: rate limiting (design §7). The route's tiers are taken in parallel; `rateLimitHeaders`
 * reports the most restrictive one in `X-RateLimit-*` and the IETF `RateLimit` / `RateLimit-Policy`
 * fields on every response of the route; a refused request is 429 with `Retry-After`. An address
 * locked out for failed authentication gets 429 even with correct credentials. When the counter
 * store is down the request fails closed (503) unless `RATE_LIMIT_FAIL_OPEN=true`.
 */
import type { MiddlewareObj } from '@middy/core';
import { type AuditLog } from '../../lib/audit.js';
import { requestEvent } from '../../lib/audit-events.js';
import type { Logger } from '../../lib/logger.js';
import type { LimitCheck, LimitResult, RateLimiter } from '../../lib/rate-limiter.js';
import { RateLimitError } from '../../lib/errors.js';
import { deferCheck, type AppRequest, type DeferredCheck } from '../request.js';

export interface RateLimitOptions {
  readonly limiter: RateLimiter;
  /** The tiers that apply to this request (after authentication). */
  readonly tiers: (request: AppRequest) => LimitCheck[];
  /** The failed-authentication tier of this request's client, checked without being consumed. */
  readonly lockout?: (request: AppRequest) => LimitCheck;
  /** Further lockouts checked the same way: prompt-attack abuse (design §13). @default none */
  readonly abuse?: (request: AppRequest) => readonly LimitCheck[];
  readonly failOpen: boolean;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly clock: () => number;
}

/** How many `rate_limit.exceeded` events an instance remembers having recorded this window. */
const MAX_REMEMBERED_EVENTS = 10_000;

/** Creates the rate-limit middleware for one route. */
export function rateLimit(options: RateLimitOptions): MiddlewareObj {
  const { limiter, audit, logger, clock } = options;
  const recorded = new Set<string>();
  let recordedWindow = -1;

  /** One `rate_limit.exceeded` per tier, key and window on this instance; the rest only count in logs. */
  const firstInWindow = (result: LimitResult): boolean => {
    const window = Math.floor(clock() / limiter.windowMs);
    if (window !== recordedWindow || recorded.size >= MAX_REMEMBERED_EVENTS) {
      recorded.clear();
      recordedWindow = window;
    }
    const id = `${result.tier}#${result.key}`;
    if (recorded.has(id)) return false;
    recorded.add(id);
    return true;
  };

  return {
    before: (request: AppRequest) => {
      // Taken by `awaitChecks`: the counters go out with the revocation lookup and the reservations.
      deferCheck(request.context.app, check(request));
    },
  } as MiddlewareObj;

  /**
   * Takes the route's tiers and peeks at the lockouts; the verdict throws the 429, and an earlier
   * refusal (a revoked token) undoes what was taken. Rejects when the store is down (fail closed).
   */
  async function check(request: AppRequest): Promise<DeferredCheck> {
    const state = request.context.app;
    const checks = options.tiers(request);
    const lockouts = [...(options.lockout ? [options.lockout(request)] : []), ...(options.abuse?.(request) ?? [])];
    let results: LimitResult[];
    let locked: LimitResult | undefined;
    try {
      [results, locked] = await Promise.all([
        limiter.consume(checks),
        // The failed-authentication lockout and the prompt-attack ones: the longest refusal wins.
        Promise.all(lockouts.map((check) => limiter.peek(check))).then(
          (peeked) => peeked.filter((r) => !r.allowed).sort((a, b) => b.retryAfter - a.retryAfter)[0],
        ),
      ]);
    } catch (error) {
      if (!options.failOpen) throw error;
      logger.error('rate limiter unavailable; failing open (RATE_LIMIT_FAIL_OPEN=true)', {
        requestId: state.requestId,
        error,
      });
      return { verdict: async () => undefined };
    }
    return {
      verdict: async () => {
        // A locked-out client's 429 reports the lockout tier, so no header says requests remain.
        const lockedOut = locked !== undefined && !locked.allowed;
        state.rateLimits = lockedOut ? [...results, locked as LimitResult] : results;
        const refused = results.filter((r) => !r.allowed);
        if (lockedOut) {
          throw new RateLimitError(Math.max(...[...refused, locked as LimitResult].map((r) => r.retryAfter)));
        }
        if (refused.length === 0) return;
        await Promise.all(
          refused
            .filter(firstInWindow)
            .map((r) =>
              audit.record(requestEvent(state, 'rate_limit.exceeded', clock(), { tier: r.tier, limit: r.limit })),
            ),
        );
        throw new RateLimitError(Math.max(...refused.map((r) => r.retryAfter)));
      },
      undo: async () => {
        await limiter.giveBack(results).catch((error: unknown) => {
          logger.error('could not give back rate-limit counts of a refused request', {
            requestId: state.requestId,
            error,
          });
        });
      },
    };
  }
}

export interface RateLimitHeadersOptions {
  readonly windowMs: number;
  readonly clock: () => number;
}

/**
 * The response side of rate limiting: writes the headers of the tiers taken for this request.
 * It sits before the error mapper in the chain, so a 429 (or any later error) carries them too.
 */
export function rateLimitHeaders(options: RateLimitHeadersOptions): MiddlewareObj {
  const { clock } = options;
  const windowSeconds = Math.ceil(options.windowMs / 1000);
  const decorate = (request: AppRequest): void => {
    const results = request.context.app?.rateLimits;
    const response = request.response;
    if (!results || results.length === 0 || !response) return;
    const refused = results.filter((r) => !r.allowed);
    // Refused: the tier that frees up last, whose wait is the 429's `Retry-After`, so every field agrees.
    const tightest =
      refused.length > 0
        ? refused.reduce((a, b) => (b.retryAfter > a.retryAfter ? b : a))
        : results.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    const now = Math.floor(clock() / 1000);
    const seconds = tightest.allowed ? Math.max(0, tightest.resetAt - now) : tightest.retryAfter;
    response.headers = {
      ...response.headers,
      'X-RateLimit-Limit': String(tightest.limit),
      'X-RateLimit-Remaining': String(tightest.remaining),
      'X-RateLimit-Reset': String(tightest.resetAt),
      'RateLimit-Policy': results.map((r) => `"${r.tier}";q=${r.limit};w=${windowSeconds}`).join(', '),
      RateLimit: `"${tightest.tier}";r=${tightest.remaining};t=${seconds}`,
    };
  };

  return { after: decorate, onError: decorate } as MiddlewareObj;
}
