/**
 * The rate-limit middlewares built directly over a real `RateLimiter`, an in-memory counter store
 * that can be made to fail, a recording audit log and a fake clock: refusal, lockout, one audit
 * event per tier, key and window, fail closed / fail open, and the response headers.
 */
import { jest } from '@jest/globals';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { AuditLog } from '../../../../lambdas/lib/audit.js';
import { RateLimitError, ServiceUnavailableError } from '../../../../lambdas/lib/errors.js';
import type { Logger } from '../../../../lambdas/lib/logger.js';
import { RateLimiter, type LimitCheck, type LimitResult } from '../../../../lambdas/lib/rate-limiter.js';
import type { AppRequest, RequestState } from '../../../../lambdas/http/request.js';
import type { AuditEvent } from '../../../../lambdas/lib/audit-events.js';
import type { CounterRef } from '../../../../lambdas/lib/rate-limiter.js';
import { InMemoryRateLimitStore } from '../../../helpers/fake-runtime.js';
import { rateLimit, rateLimitHeaders } from '../../../../lambdas/http/middleware/rate-limit.js';
import { awaitChecks } from '../../../../lambdas/http/middleware/checks.js';

const WINDOW_MS = 60_000;
/** 2025-01-15T12:00:00.000Z, the first millisecond of a window. */
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

const idOf = (c: CounterRef) => `${c.tier}#${c.key}#${c.window}`;

const IP_TIER: LimitCheck = { tier: 'ip', key: '203.0.113.7', limit: 3 };
const SESSION_TIER: LimitCheck = { tier: 'session', key: 's-1', limit: 5 };
const LOCKOUT: LimitCheck = { tier: 'auth-failure', key: '203.0.113.7', limit: 2 };

function setup(options: { failOpen?: boolean; tiers?: LimitCheck[]; lockout?: boolean } = {}) {
  let now = T0 + 15_000;
  const clock = () => now;
  const store = new InMemoryRateLimitStore();
  const limiter = new RateLimiter({ store, windowMs: WINDOW_MS, clock });
  const events: AuditEvent[] = [];
  const audit = { record: jest.fn(async (event: AuditEvent) => void events.push(event)) } as unknown as AuditLog;
  const logError = jest.fn();
  const logger = { error: logError } as unknown as Logger;
  const tiers = options.tiers ?? [IP_TIER];
  const middleware = rateLimit({
    limiter,
    tiers: () => tiers,
    lockout: options.lockout === false ? undefined : () => LOCKOUT,
    failOpen: options.failOpen ?? false,
    audit,
    logger,
    clock,
  });
  return {
    store,
    limiter,
    events,
    logError,
    middleware,
    advance: (ms: number) => (now += ms),
  };
}

/** A request as the chain has seen it by the rate-limit step. */
function request(state: Partial<RequestState> = {}): AppRequest {
  return {
    event: {},
    context: {
      app: {
        requestId: 'req-1',
        ip: '203.0.113.7',
        method: 'POST',
        route: '/v1/chat',
        startedAt: T0,
        actor: 'anonymous',
        ...state,
      },
    },
    response: undefined,
    error: undefined,
    internal: {},
  } as unknown as AppRequest;
}

/** Runs the middleware's step, then takes its verdict as the chain does (`awaitChecks`). */
const before = async (middleware: MiddlewareObj, req: AppRequest): Promise<void> => {
  await middleware.before!(req as never);
  await awaitChecks().before!(req as never);
};

/** Runs `times` requests; returns each outcome (`ok` or the thrown error). */
async function send(middleware: MiddlewareObj, times: number): Promise<unknown[]> {
  const outcomes: unknown[] = [];
  for (let i = 0; i < times; i += 1) {
    try {
      await before(middleware, request());
      outcomes.push('ok');
    } catch (error) {
      outcomes.push(error);
    }
  }
  return outcomes;
}

describe('rateLimit middleware', () => {
  it('It should let a request through and keep every tier taken for the response headers', async () => {
    // Prepare
    const { middleware } = setup({ tiers: [IP_TIER, SESSION_TIER] });
    const req = request();

    // Act
    await before(middleware, req);

    // Assess
    expect(req.context.app.rateLimits?.map((r) => [r.tier, r.allowed, r.remaining])).toEqual([
      ['ip', true, 2],
      ['session', true, 4],
    ]);
  });

  it('It should refuse the request past the limit with 429 RATE_LIMIT_EXCEEDED and Retry-After', async () => {
    // Prepare
    const { middleware } = setup();

    // Act
    const outcomes = await send(middleware, 4);

    // Assess: 45 s to the end of the window, and a bit for this window's 3 to weigh less than 3
    expect(outcomes.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
    const refused = outcomes[3];
    expect(refused).toBeInstanceOf(RateLimitError);
    expect(refused).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', status: 429, headers: { 'Retry-After': '46' } });
  });

  it('It should keep the results on a refused request so the 429 carries the headers', async () => {
    // Prepare
    const { middleware } = setup();
    await send(middleware, 3);
    const req = request();

    // Act
    await expect(before(middleware, req)).rejects.toBeInstanceOf(RateLimitError);

    // Assess
    expect(req.context.app.rateLimits?.map((r) => [r.tier, r.allowed, r.remaining])).toEqual([['ip', false, 0]]);
  });

  it('It should answer the longest Retry-After of the refused tiers', async () => {
    // Prepare: the session tier (limit 2) full in this window; the ip tier (limit 2) full from the closed window's 6
    const { middleware, store } = setup({
      tiers: [
        { tier: 'session', key: 'b', limit: 2 },
        { tier: 'ip', key: 'a', limit: 2 },
        { tier: 'user', key: 'c', limit: 100 },
      ],
    });
    store.counts.set(idOf({ tier: 'ip', key: 'a', window: Math.floor(T0 / WINDOW_MS) - 1 }), 6);
    await send(middleware, 2);

    // Act
    const [refused] = await send(middleware, 1);

    // Assess: the ip tier frees a slot once the closed 6 weigh less than 2 (26 s); the session tier just after the window (46 s)
    expect(refused).toMatchObject({ headers: { 'Retry-After': '46' } });
  });

  it('It should record one rate_limit.exceeded event per tier, key and window', async () => {
    // Prepare
    const { middleware, events, advance } = setup({ tiers: [{ tier: 'ip', key: '203.0.113.7', limit: 1 }] });

    // Act: 4 refusals in one window, then 2 refusals two windows later
    await send(middleware, 5);
    advance(2 * WINDOW_MS);
    await send(middleware, 3);

    // Assess
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({
      type: 'rate_limit.exceeded',
      actor: 'anonymous',
      ip: '203.0.113.7',
      method: 'POST',
      route: '/v1/chat',
      requestId: 'req-1',
      at: T0 + 15_000,
      detail: { tier: 'ip', limit: 1 },
    });
    expect(events[1]!.at).toBe(T0 + 15_000 + 2 * WINDOW_MS);
  });

  it('It should record one event for each refused tier of a request', async () => {
    // Prepare
    const { middleware, events } = setup({
      tiers: [
        { tier: 'ip', key: 'a', limit: 1 },
        { tier: 'session', key: 'b', limit: 1 },
        { tier: 'user', key: 'c', limit: 100 },
      ],
    });

    // Act
    await send(middleware, 3);

    // Assess
    expect(events.map((e) => e.detail)).toEqual([
      { tier: 'ip', limit: 1 },
      { tier: 'session', limit: 1 },
    ]);
  });

  it('It should answer 429 with the Retry-After of the lockout to a locked-out client, without counting a failure', async () => {
    // Prepare: the client has failed authentication as often as allowed
    const { middleware, limiter, store } = setup();
    await limiter.record(LOCKOUT);
    await limiter.record(LOCKOUT);
    const req = request();

    // Act
    const outcome = await before(middleware, req).catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(RateLimitError);
    expect(outcome).toMatchObject({ headers: { 'Retry-After': '46' } });
    const lockout = req.context.app.rateLimits?.find((r) => r.tier === LOCKOUT.tier);
    expect(lockout).toMatchObject({ allowed: false, remaining: 0, retryAfter: 46 });
    expect(store.count({ tier: 'auth-failure', key: LOCKOUT.key, window: Math.floor((T0 + 15_000) / WINDOW_MS) })).toBe(
      2,
    );
  });

  it('It should let a client through while its failures stay below the lockout limit', async () => {
    // Prepare
    const { middleware, limiter } = setup();
    await limiter.record(LOCKOUT);

    // Act
    const outcomes = await send(middleware, 1);

    // Assess
    expect(outcomes).toEqual(['ok']);
  });

  it('It should take nothing and add no headers on a route without tiers', async () => {
    // Prepare
    const { middleware, store } = setup({ tiers: [], lockout: false });
    const req = request();

    // Act
    await before(middleware, req);

    // Assess
    expect(req.context.app.rateLimits).toEqual([]);
    expect(store.counts.size).toBe(0);
  });

  it.each<[string, boolean | undefined]>([
    ['with RATE_LIMIT_FAIL_OPEN unset', undefined],
    ['with RATE_LIMIT_FAIL_OPEN=false', false],
  ])('It should fail closed when the counter store is down %s', async (_label, failOpen) => {
    // Prepare
    const { middleware, store, logError } = setup({ failOpen });
    const down = new ServiceUnavailableError({ cause: new Error('connect ECONNREFUSED') });
    store.failure = down;

    // Act
    const outcome = await before(middleware, request()).catch((error: unknown) => error);

    // Assess
    expect(outcome).toBe(down);
    expect(logError).not.toHaveBeenCalled();
  });

  it('It should fail open, log the failure and add no headers when RATE_LIMIT_FAIL_OPEN=true', async () => {
    // Prepare
    const { middleware, store, logError } = setup({ failOpen: true });
    store.failure = new ServiceUnavailableError();
    const req = request();

    // Act
    await before(middleware, req);

    // Assess
    expect(req.context.app.rateLimits).toBeUndefined();
    expect(logError).toHaveBeenCalledTimes(1);
    expect(logError.mock.calls[0]![0]).toMatch(/failing open/);
  });
});

describe('rateLimitHeaders middleware', () => {
  const NOW = T0 + 15_400;
  const result = (tier: string, limit: number, remaining: number, resetAt = (T0 + WINDOW_MS) / 1000): LimitResult => ({
    tier,
    key: 'k',
    limit,
    allowed: true,
    remaining,
    resetAt,
    retryAfter: 1,
  });
  const refused = (tier: string, limit: number, retryAfter: number): LimitResult => ({
    tier,
    key: 'k',
    limit,
    allowed: false,
    remaining: 0,
    resetAt: Math.ceil(NOW / 1000) + retryAfter,
    retryAfter,
  });

  function decorate(
    phase: 'after' | 'onError',
    results: LimitResult[] | undefined,
    response: APIGatewayProxyResult | null = { statusCode: 200, headers: { 'X-Request-Id': 'r' }, body: '' },
  ) {
    const middleware = rateLimitHeaders({ windowMs: WINDOW_MS, clock: () => NOW });
    const req = { context: { app: { rateLimits: results } }, response: response ?? undefined } as unknown as AppRequest;
    void middleware[phase]!(req as never);
    return req.response?.headers;
  }

  it.each<['after' | 'onError']>([['after'], ['onError']])(
    'It should describe the tightest tier and list every policy (%s)',
    (phase) => {
      // Act
      const headers = decorate(phase, [result('ip', 60, 41), result('session', 20, 3), result('user', 30, 9)]);

      // Assess: 44.6 s to the reset, floored to whole seconds of the clock
      expect(headers).toEqual({
        'X-Request-Id': 'r',
        'X-RateLimit-Limit': '20',
        'X-RateLimit-Remaining': '3',
        'X-RateLimit-Reset': String((T0 + WINDOW_MS) / 1000),
        'RateLimit-Policy': '"ip";q=60;w=60, "session";q=20;w=60, "user";q=30;w=60',
        RateLimit: '"session";r=3;t=45',
      });
    },
  );

  it('It should keep the first tier when two are equally tight', () => {
    // Act
    const headers = decorate('after', [result('ip', 5, 0), result('session', 3, 0)]);

    // Assess
    expect(headers).toMatchObject({ 'X-RateLimit-Limit': '5', RateLimit: '"ip";r=0;t=45' });
  });

  it('should make every field of a 429 say the same wait: that of the refused tier freeing up last', () => {
    // Act
    const headers = decorate('onError', [result('ip', 60, 0), refused('session', 20, 7), refused('user', 30, 12)]);

    // Assess
    expect(headers).toMatchObject({
      'X-RateLimit-Limit': '30',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String(Math.ceil(NOW / 1000) + 12),
      RateLimit: '"user";r=0;t=12',
    });
  });

  it('It should never report a negative time to the reset', () => {
    // Act
    const headers = decorate('after', [result('ip', 5, 2, Math.floor(NOW / 1000) - 3)]);

    // Assess
    expect(headers).toMatchObject({ RateLimit: '"ip";r=2;t=0' });
  });

  it.each<[string, LimitResult[] | undefined]>([
    ['no tier was taken (route without limits, or failing open)', undefined],
    ['the route has no tiers', []],
  ])('It should add no rate-limit headers when %s', (_label, results) => {
    // Act
    const headers = decorate('after', results);

    // Assess
    expect(headers).toEqual({ 'X-Request-Id': 'r' });
  });

  it('It should do nothing when there is no response', () => {
    // Act
    const headers = decorate('onError', [result('ip', 5, 2)], null);

    // Assess
    expect(headers).toBeUndefined();
  });
});
