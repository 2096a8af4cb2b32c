/**
 * The application rate limiter (design §7): sliding window over two fixed windows, atomic
 * increments, cached closed windows, IPv6 grouping and the tiers of each credential kind.
 * Time is a fake clock; the counter store is an in-memory fake whose conditional increment is
 * atomic (check and add in one synchronous step, after a yield so that concurrent calls interleave).
 */
import fc from 'fast-check';
import { loadConfig } from '../../../lambdas/lib/config.js';
import { lockoutFor, tiersFor } from '../../../lambdas/http/rate-limit-tiers.js';
import { RateLimiter, clientKey, type LimitCheck, type LimitResult } from '../../../lambdas/lib/rate-limiter.js';
import { RateLimitError } from '../../../lambdas/lib/errors.js';
import type { AppRequest } from '../../../lambdas/http/request.js';
import type { CounterRef, RateLimitStore } from '../../../lambdas/lib/rate-limiter.js';
import type { VerifiedToken } from '../../../lambdas/lib/tokens.js';

const WINDOW_MS = 60_000;
/** 2025-01-15T12:00:00.000Z, the first millisecond of a window. */
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
const W0 = T0 / WINDOW_MS;

const idOf = (c: CounterRef) => `${c.tier}#${c.key}#${c.window}`;

/** Counters in a `Map`; every call is counted, and the conditional increment is atomic. */
class FakeRateLimitStore implements RateLimitStore {
  readonly counts = new Map<string, number>();
  readonly reads: CounterRef[] = [];
  readonly conditional: Array<{ counter: CounterRef; below: number; expiresAt: number }> = [];
  readonly unconditional: CounterRef[] = [];

  /** Sets a counter, for example the count of a window that has closed. */
  seed(counter: CounterRef, count: number): void {
    this.counts.set(idOf(counter), count);
  }
  count(counter: CounterRef): number {
    return this.counts.get(idOf(counter)) ?? 0;
  }
  async read(counter: CounterRef): Promise<number> {
    this.reads.push(counter);
    await Promise.resolve();
    return this.count(counter);
  }
  async incrementBelow(counter: CounterRef, below: number, expiresAt: number): Promise<number | undefined> {
    this.conditional.push({ counter, below, expiresAt });
    await Promise.resolve();
    // From here to the return nothing yields: this is the conditional UpdateItem.
    const current = this.count(counter);
    if (current >= below) return undefined;
    this.counts.set(idOf(counter), current + 1);
    return current + 1;
  }
  async increment(counter: CounterRef): Promise<number> {
    this.unconditional.push(counter);
    await Promise.resolve();
    const next = this.count(counter) + 1;
    this.counts.set(idOf(counter), next);
    return next;
  }
  async decrement(counter: CounterRef): Promise<void> {
    await Promise.resolve();
    const current = this.count(counter);
    if (current > 0) this.counts.set(idOf(counter), current - 1);
  }
}

/** A clock that moves only when the test moves it. */
class Clock {
  constructor(public ms: number = T0) {}
  readonly now = (): number => this.ms;
}

function setup(options: { at?: number; cacheSize?: number } = {}) {
  const store = new FakeRateLimitStore();
  const clock = new Clock(options.at ?? T0);
  const limiter = new RateLimiter({ store, windowMs: WINDOW_MS, clock: clock.now, cacheSize: options.cacheSize });
  return { store, clock, limiter };
}

const check = (limit: number, key = 'k'): LimitCheck => ({ tier: 'ip', key, limit });

/** Consumes `check` one request at a time until refused (or `max` requests); returns every result. */
async function consumeUntilRefused(limiter: RateLimiter, c: LimitCheck, max = 1000): Promise<LimitResult[]> {
  const results: LimitResult[] = [];
  for (let i = 0; i < max; i += 1) {
    const [result] = await limiter.consume([c]);
    results.push(result!);
    if (!result!.allowed) break;
  }
  return results;
}
const allowedCount = (results: readonly LimitResult[]) => results.filter((r) => r.allowed).length;

describe('RateLimiter', () => {
  it('should give back exactly what consume took for a request refused for another reason', async () => {
    // Prepare: one tier with room, one already at its limit.
    const { store, limiter } = setup();
    await limiter.consume([check(1, 'full')]);
    const results = await limiter.consume([check(5, 'room'), check(1, 'full')]);
    const counter = (key: string) => ({ tier: 'ip', key, window: Math.floor(T0 / WINDOW_MS) });

    // Act
    await limiter.giveBack(results);

    // Assess: the tier that counted the request is back where it was; the refused one kept its count.
    expect(results.map((r) => r.allowed)).toEqual([true, false]);
    expect([store.count(counter('room')), store.count(counter('full'))]).toEqual([0, 1]);
  });

  describe('windows', () => {
    it.each<[string, number, number]>([
      ['the first millisecond of a window', T0, W0],
      ['the middle of a window', T0 + 30_000, W0],
      ['the last millisecond of a window', T0 + WINDOW_MS - 1, W0],
      ['the first millisecond of the next window', T0 + WINDOW_MS, W0 + 1],
    ])('It should count a request at %s in window floor(now / windowMs)', async (_label, at, window) => {
      // Prepare
      const { store, limiter } = setup({ at });

      // Act
      await limiter.consume([check(5)]);

      // Assess
      expect(store.conditional.map((c) => c.counter)).toEqual([{ tier: 'ip', key: 'k', window }]);
      expect(store.reads).toEqual([{ tier: 'ip', key: 'k', window: window - 1 }]);
    });

    it('It should expire a counter two windows after its window ends', async () => {
      // Prepare
      const { store, limiter } = setup({ at: T0 + 12_345 });

      // Act
      await limiter.consume([check(5)]);

      // Assess
      expect(store.conditional[0]!.expiresAt).toBe((T0 + 3 * WINDOW_MS) / 1000);
    });

    it('It should start a new counter when the window changes and weigh the closed one', async () => {
      // Prepare: a limit of 3 used up in the last millisecond of a window
      const { store, clock, limiter } = setup({ at: T0 + WINDOW_MS - 1 });
      expect(allowedCount(await consumeUntilRefused(limiter, check(3)))).toBe(3);

      // Act: the first millisecond of the next window still carries the whole closed window…
      clock.ms = T0 + WINDOW_MS;
      const atStart = await limiter.consume([check(3)]);
      // …and half-way through it carries half of it (floor(3 × 0.5) = 1)
      clock.ms = T0 + WINDOW_MS + WINDOW_MS / 2;
      const halfWay = await consumeUntilRefused(limiter, check(3));

      // Assess
      expect(atStart[0]!.allowed).toBe(false);
      expect(allowedCount(halfWay)).toBe(2);
      expect(store.count({ tier: 'ip', key: 'k', window: W0 })).toBe(3);
      expect(store.count({ tier: 'ip', key: 'k', window: W0 + 1 })).toBe(2);
    });
  });

  describe('weighting of the previous window', () => {
    it.each<[number, number, number, number]>([
      // limit, previous count, % into the current window, requests allowed in the current window
      [10, 10, 0, 0],
      [10, 10, 25, 3],
      [10, 10, 50, 5],
      [10, 10, 90, 9],
      [10, 7, 50, 7],
      [10, 3, 25, 8],
      [10, 0, 0, 10],
      [5, 5, 99.99, 5],
    ])(
      'It should allow limit − floor(previous × remaining fraction): limit %i, previous %i, %f% in → %i',
      async (limit, previous, percent, allowed) => {
        // Prepare
        const { store, limiter } = setup({ at: T0 + (WINDOW_MS * percent) / 100 });
        store.seed({ tier: 'ip', key: 'k', window: W0 - 1 }, previous);

        // Act
        const results = await consumeUntilRefused(limiter, check(limit));

        // Assess
        expect(allowedCount(results)).toBe(allowed);
        expect(results.at(-1)!.allowed).toBe(false);
        expect(store.count({ tier: 'ip', key: 'k', window: W0 })).toBe(allowed);
      },
    );

    it('It should ignore windows older than the previous one', async () => {
      // Prepare
      const { store, limiter } = setup({ at: T0 });
      store.seed({ tier: 'ip', key: 'k', window: W0 - 2 }, 100);

      // Act
      const results = await consumeUntilRefused(limiter, check(4));

      // Assess
      expect(allowedCount(results)).toBe(4);
    });
  });

  describe('results', () => {
    it('It should count remaining down to 0 and report the end of the window in epoch seconds', async () => {
      // Prepare
      const { limiter } = setup({ at: T0 + 15_000 });

      // Act
      const results = await consumeUntilRefused(limiter, check(5));

      // Assess
      expect(results.map((r) => [r.allowed, r.remaining])).toEqual([
        [true, 4],
        [true, 3],
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      expect(new Set(results.slice(0, 5).map((r) => r.resetAt))).toEqual(new Set([(T0 + WINDOW_MS) / 1000]));
      // Refused: the reset is when the same request passes, Retry-After seconds from now
      expect(results[5]!.resetAt).toBe((T0 + 15_000) / 1000 + results[5]!.retryAfter);
      expect(results[0]).toMatchObject({ tier: 'ip', key: 'k', limit: 5 });
    });

    it('It should count remaining from what the previous window leaves', async () => {
      // Prepare: limit 10, previous 10, half-way: 5 are left for this window
      const { store, limiter } = setup({ at: T0 + WINDOW_MS / 2 });
      store.seed({ tier: 'ip', key: 'k', window: W0 - 1 }, 10);

      // Act
      const results = await consumeUntilRefused(limiter, check(10));

      // Assess
      expect(results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
    });

    it('It should round resetAt up to the next whole second', async () => {
      // Prepare: a window that does not end on a whole second
      const store = new FakeRateLimitStore();
      const limiter = new RateLimiter({ store, windowMs: 1500, clock: () => 1000 });

      // Act
      const [result] = await limiter.consume([check(5)]);

      // Assess: 1000 ms lies in the window [0, 1500), which ends at 1.5 s
      expect(result!.resetAt).toBe(2);
    });

    it.each<[string, number, number, number, number]>([
      // label, limit, previous count, ms into the window, Retry-After
      // 5 of 5 taken 15 s in: this window never frees a slot; the next one does once its weight of
      // this window's 5 drops below 1, just after the boundary: 45 s and a bit, so 46
      ['limit 5, fresh, 15 s in', 5, 0, 15_000, 46],
      // the closed window weighs 5 of 10 and 5 were taken: every 6 s its weight frees a slot, the first within 1 s
      ['limit 10, previous 10, 30 s in', 10, 10, 30_000, 1],
      // 0.5 ms to the end: just after the boundary the one request of this window weighs less than 1
      ['limit 1, fresh, 0.5 ms before the end', 1, 0, WINDOW_MS - 0.5, 1],
      // the weighted previous window takes 2 of 10 in the last millisecond; 1 s later 8 weigh less than 10
      ['limit 10, huge previous, 1 ms before the end', 10, 120_000, WINDOW_MS - 1, 1],
    ])(
      'It should answer Retry-After = the first whole second at which the same request passes (%s)',
      async (_label, limit, previous, into, retryAfter) => {
        // Prepare
        const { store, limiter } = setup({ at: T0 + into });
        store.seed({ tier: 'ip', key: 'k', window: W0 - 1 }, previous);

        // Act
        const results = await consumeUntilRefused(limiter, check(limit));

        // Assess
        const refused = results.at(-1)!;
        expect(refused.allowed).toBe(false);
        expect(refused.retryAfter).toBe(retryAfter);
        expect(Number.isInteger(refused.retryAfter)).toBe(true);
        expect(refused.retryAfter).toBeGreaterThanOrEqual(1);
      },
    );

    it.each<[number, number, number]>([
      // limit, previous count, ms into the window
      [5, 0, 15_000],
      [10, 10, 30_000],
      [1, 0, 100],
      [3, 3, 59_000],
      [60, 0, 0],
    ])(
      'It should allow a request Retry-After seconds after a refusal (limit %i, previous %i, %i ms in)',
      async (limit, previous, into) => {
        // Prepare
        const { store, clock, limiter } = setup({ at: T0 + into });
        store.seed({ tier: 'ip', key: 'k', window: W0 - 1 }, previous);
        const refused = (await consumeUntilRefused(limiter, check(limit))).at(-1)!;

        // Act
        clock.ms += refused.retryAfter * 1000;
        const [later] = await limiter.consume([check(limit)]);

        // Assess
        expect(refused.allowed).toBe(false);
        expect(later!.allowed).toBe(true);
      },
    );

    it('should reproduce the report: window 10 s, limit 3, requests at 0, 4, 4 s, refused at 5 s, passes 5.05 s later', async () => {
      // Prepare
      const store = new FakeRateLimitStore();
      const clock = new Clock(0);
      const limiter = new RateLimiter({ store, windowMs: 10_000, clock: clock.now });
      for (const at of [0, 4000, 4000]) {
        clock.ms = at;
        await limiter.consume([check(3)]);
      }

      // Act
      clock.ms = 5000;
      const [refused] = await limiter.consume([check(3)]);
      clock.ms = 10_000;
      const [atTheBoundary] = await limiter.consume([check(3)]);
      clock.ms = 10_050;
      const [later] = await limiter.consume([check(3)]);

      // Assess: at exactly 10 s the closed window still weighs 3; from just after it, less
      expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfter: 6, resetAt: 11 });
      expect(atTheBoundary!.allowed).toBe(false);
      expect(later!.allowed).toBe(true);
    });

    it('should never answer a Retry-After that is early or more than 1 s late, whatever the traffic before', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 20 }),
          fc.integer({ min: 1, max: 30 }).map((s) => s * 1000),
          fc.array(fc.integer({ min: 0, max: 59_999 }), { minLength: 1, maxLength: 40 }),
          async (limit, windowMs, offsets) => {
            // Prepare: requests spread over two windows, then more until one is refused
            const store = new FakeRateLimitStore();
            const clock = new Clock(0);
            const limiter = new RateLimiter({ store, windowMs, clock: clock.now });
            const times = offsets.map((o) => o % (2 * windowMs)).sort((a, b) => a - b);
            let refused: LimitResult | undefined;
            for (const at of times) {
              clock.ms = at;
              [refused] = await limiter.consume([check(limit)]);
            }
            while (refused!.allowed) [refused] = await limiter.consume([check(limit)]);
            const refusedAt = clock.ms;

            // Act: one second early (refused, so nothing is taken), then on time
            clock.ms = refusedAt + (refused!.retryAfter - 1) * 1000;
            const [early] = await limiter.consume([check(limit)]);
            clock.ms = refusedAt + refused!.retryAfter * 1000;
            const [onTime] = await limiter.consume([check(limit)]);

            // Assess
            return (refused!.retryAfter === 1 || !early!.allowed) && onTime!.allowed;
          },
        ),
        { numRuns: 200 },
      );
    });

    it('It should carry Retry-After on the 429 error', () => {
      // Act
      const error = new RateLimitError(42);

      // Assess
      expect(error).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', status: 429, expose: true });
      expect(error.headers).toEqual({ 'Retry-After': '42' });
    });
  });

  describe('cache of the previous window', () => {
    it('It should read the previous window once per tier, key and window, then use the cached count', async () => {
      // Prepare
      const { store, clock, limiter } = setup({ at: T0 + 1000 });

      // Act
      for (let i = 0; i < 5; i += 1) await limiter.consume([check(100, 'a')]);
      await limiter.consume([check(100, 'b')]);
      await limiter.consume([{ tier: 'session', key: 'a', limit: 100 }]);
      const readsInFirstWindow = store.reads.length;
      clock.ms += WINDOW_MS;
      for (let i = 0; i < 3; i += 1) await limiter.consume([check(100, 'a')]);

      // Assess
      expect(readsInFirstWindow).toBe(3);
      expect(store.reads).toEqual([
        { tier: 'ip', key: 'a', window: W0 - 1 },
        { tier: 'ip', key: 'b', window: W0 - 1 },
        { tier: 'session', key: 'a', window: W0 - 1 },
        { tier: 'ip', key: 'a', window: W0 },
      ]);
      expect(store.conditional).toHaveLength(10);
    });

    it('It should use the cached previous count for isExhausted and record too', async () => {
      // Prepare
      const { store, limiter } = setup({ at: T0 + 1000 });
      const c: LimitCheck = { tier: 'auth-failure', key: 'k', limit: 100 };

      // Act
      await limiter.isExhausted(c);
      await limiter.record(c);
      await limiter.isExhausted(c);
      await limiter.record(c);

      // Assess: one read of the previous window, one read of the current window per isExhausted
      const previousReads = store.reads.filter((r) => r.window === W0 - 1);
      const currentReads = store.reads.filter((r) => r.window === W0);
      expect(previousReads).toHaveLength(1);
      expect(currentReads).toHaveLength(2);
      expect(store.unconditional).toHaveLength(2);
    });

    it('It should evict the oldest cached count once cacheSize counts are held', async () => {
      // Prepare
      const { store, limiter } = setup({ at: T0 + 1000, cacheSize: 2 });
      const readsOf = (key: string) => store.reads.filter((r) => r.key === key).length;

      // Act: a, b, c fill and overflow a cache of 2 (a is evicted), then a and c again
      for (const key of ['a', 'b', 'c', 'a', 'c']) await limiter.consume([check(100, key)]);

      // Assess
      expect([readsOf('a'), readsOf('b'), readsOf('c')]).toEqual([2, 1, 1]);
    });

    it('It should hold 10 000 counts by default', async () => {
      // Prepare
      const { store, limiter } = setup({ at: T0 + 1000 });
      const keys = Array.from({ length: 10_001 }, (_, i) => `k${i}`);

      // Act: 10 000 keys fit; the 10 001st evicts k0 only
      for (const key of keys) await limiter.consume([check(100, key)]);
      const before = store.reads.length;
      await limiter.consume([check(100, 'k1')]);
      const afterCached = store.reads.length;
      await limiter.consume([check(100, 'k0')]);

      // Assess
      expect(before).toBe(10_001);
      expect(afterCached).toBe(10_001);
      expect(store.reads.length).toBe(10_002);
    });
  });

  describe('concurrency', () => {
    it.each<[number, number, number, number]>([
      // limit, concurrent requests, previous count, ms into the window
      [1, 10, 0, 0],
      [7, 20, 0, 10_000],
      [10, 50, 0, 59_999],
      [10, 50, 10, 30_000],
    ])(
      'It should allow exactly the free slots of limit %i among %i concurrent requests (previous %i, %i ms in)',
      async (limit, n, previous, into) => {
        // Prepare
        const { store, limiter } = setup({ at: T0 + into });
        store.seed({ tier: 'ip', key: 'k', window: W0 - 1 }, previous);
        const free = limit - Math.floor((previous * (WINDOW_MS - into)) / WINDOW_MS);

        // Act
        const results = (await Promise.all(Array.from({ length: n }, () => limiter.consume([check(limit)])))).flat();

        // Assess
        expect(allowedCount(results)).toBe(free);
        expect(store.count({ tier: 'ip', key: 'k', window: W0 })).toBe(free);
        expect(
          results
            .filter((r) => r.allowed)
            .map((r) => r.remaining)
            .sort((a, b) => a - b),
        ).toEqual(Array.from({ length: free }, (_, i) => i));
      },
    );

    it('It should take every tier of one request, in parallel and independently', async () => {
      // Prepare: the session tier is already full
      const { store, limiter } = setup({ at: T0 + 1000 });
      store.seed({ tier: 'session', key: 's', window: W0 }, 2);
      const checks: LimitCheck[] = [
        { tier: 'ip', key: '203.0.113.7', limit: 5 },
        { tier: 'session', key: 's', limit: 2 },
      ];

      // Act
      const results = await limiter.consume(checks);

      // Assess
      expect(results.map((r) => [r.tier, r.allowed, r.remaining])).toEqual([
        ['ip', true, 4],
        ['session', false, 0],
      ]);
      expect(store.conditional.map((c) => c.below)).toEqual([5, 2]);
    });

    it('It should take nothing for a request with no tiers', async () => {
      // Prepare
      const { store, limiter } = setup();

      // Act
      const results = await limiter.consume([]);

      // Assess
      expect(results).toEqual([]);
      expect(store.reads).toHaveLength(0);
      expect(store.conditional).toHaveLength(0);
    });
  });

  describe('isExhausted and record (failed-authentication lockout)', () => {
    it('It should report exhausted once the count reaches the limit, without counting', async () => {
      // Prepare
      const { store, limiter } = setup({ at: T0 + 1000 });
      const c: LimitCheck = { tier: 'auth-failure', key: 'k', limit: 3 };
      const seen: boolean[] = [];

      // Act
      for (let i = 0; i < 4; i += 1) {
        seen.push(await limiter.isExhausted(c));
        seen.push(await limiter.isExhausted(c));
        if (i < 3) await limiter.record(c);
      }

      // Assess
      expect(seen).toEqual([false, false, false, false, false, false, true, true]);
      expect(store.count({ tier: 'auth-failure', key: 'k', window: W0 })).toBe(3);
    });

    it('It should say exhausted from record only once the count passes the limit', async () => {
      // Prepare
      const { limiter } = setup({ at: T0 + 15_000 });
      const c: LimitCheck = { tier: 'auth-failure', key: 'k', limit: 3 };

      // Act
      const results = [];
      for (let i = 0; i < 5; i += 1) results.push(await limiter.record(c));

      // Assess: with 3 failures the next window must weigh them below 3 (just after its start: 46 s);
      // with 4 below 3 (at 3/4 of the way: 61 s); with 5 (at 3/5: 70 s)
      expect(results.map((r) => r.exhausted)).toEqual([false, false, false, true, true]);
      expect(results.map((r) => r.retryAfter)).toEqual([1, 1, 46, 61, 70]);
    });

    it.each<[number, number, number, boolean, boolean]>([
      // previous count, % into the window, failures in this window, isExhausted, next record exhausted
      [4, 50, 0, false, false],
      [4, 50, 1, true, true],
      [2, 50, 1, false, false],
      [4, 50, 2, true, true],
      [6, 50, 0, true, true],
      [6, 90, 1, false, false],
    ])(
      'It should weigh the previous window in the lockout too (previous %i, %i% in, %i failures)',
      async (previous, percent, failures, exhausted, nextRecord) => {
        // Prepare: limit 3
        const { store, limiter } = setup({ at: T0 + (WINDOW_MS * percent) / 100 });
        const c: LimitCheck = { tier: 'auth-failure', key: 'k', limit: 3 };
        store.seed({ tier: 'auth-failure', key: 'k', window: W0 - 1 }, previous);
        store.seed({ tier: 'auth-failure', key: 'k', window: W0 }, failures);

        // Act
        const isExhausted = await limiter.isExhausted(c);
        const recorded = await limiter.record(c);

        // Assess
        expect(isExhausted).toBe(exhausted);
        expect(recorded.exhausted).toBe(nextRecord);
      },
    );
  });
});

describe('clientKey', () => {
  it.each<[string, string]>([
    ['203.0.113.7', '203.0.113.7'],
    ['10.0.0.1', '10.0.0.1'],
    ['127.0.0.1', '127.0.0.1'],
  ])('It should keep the IPv4 address %s as it is', (ip, key) => {
    // Act & Assess
    expect(clientKey(ip)).toBe(key);
  });

  it.each<[string]>([
    ['::ffff:203.0.113.7'],
    ['::FFFF:203.0.113.7'],
    ['0:0:0:0:0:ffff:203.0.113.7'],
    ['::ffff:cb00:7107'],
  ])('It should map the IPv4-mapped IPv6 address %s to its IPv4 address', (ip) => {
    // Act & Assess
    expect(clientKey(ip)).toBe('203.0.113.7');
  });

  it.each<[string, string]>([
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:0000:0000:0000:0001', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:1:2::', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['0:0:0:0:0:0:0:1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['fe80::1:2:3:4', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
  ])('It should key the IPv6 address %s by its /64 prefix %s', (ip, key) => {
    // Act & Assess
    expect(clientKey(ip)).toBe(key);
  });

  it.each<[string, string]>([
    ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff'],
    ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0002'],
    ['2001:DB8::A', '2001:db8::b'],
    ['2001:db8:0:0:1::', '2001:db8::2'],
    ['::1', '0:0:0:0:0:0:0:1'],
    ['::1', '::2'],
  ])('It should give %s and %s (same /64) the same key', (a, b) => {
    // Act & Assess
    expect(clientKey(a)).toBe(clientKey(b));
  });

  it.each<[string, string]>([
    ['2001:db8:1:2::1', '2001:db8:1:3::1'],
    ['2001:db8::1', '2001:db8:0:1::1'],
    ['2001:db8:1::', '2001:db8:2::'],
    ['::1', '1::1'],
    ['2001:db8::1', '2001:db9::1'],
    ['203.0.113.7', '203.0.113.8'],
    ['::ffff:203.0.113.7', '::ffff:203.0.113.8'],
  ])('It should give %s and %s (different /64 or address) different keys', (a, b) => {
    // Act & Assess
    expect(clientKey(a)).not.toBe(clientKey(b));
  });
});

describe('tiersFor and lockoutFor', () => {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    RATE_LIMIT_MAX_REQUESTS: '11',
    RATE_LIMIT_SESSION_MAX: '12',
    RATE_LIMIT_USER_MAX: '13',
    TOKEN_RATE_LIMIT_MAX: '14',
    ADMIN_RATE_LIMIT_MAX: '15',
    AUTH_FAILURE_LIMIT: '16',
  });
  const token = { userId: 'user-1' } as VerifiedToken;

  /** A request as the chain has seen it by the rate-limit step. */
  const request = (input: { ip?: string; body?: unknown; pathSessionId?: string; token?: VerifiedToken }): AppRequest =>
    ({
      event: { pathParameters: input.pathSessionId === undefined ? null : { sessionId: input.pathSessionId } },
      context: { app: { ip: input.ip ?? '203.0.113.7', body: input.body, token: input.token } },
    }) as unknown as AppRequest;

  it.each<[string, Parameters<typeof request>[0], LimitCheck[]]>([
    ['no session and no token', { body: { message: 'hi' } }, [{ tier: 'ip', key: '203.0.113.7', limit: 11 }]],
    [
      'a session in the body',
      { body: { sessionId: 's-1', message: 'hi' } },
      [
        { tier: 'ip', key: '203.0.113.7', limit: 11 },
        { tier: 'session', key: 's-1|anonymous', limit: 12 },
      ],
    ],
    [
      'a session in the path',
      { pathSessionId: 's-2' },
      [
        { tier: 'ip', key: '203.0.113.7', limit: 11 },
        { tier: 'session', key: 's-2|anonymous', limit: 12 },
      ],
    ],
    [
      'a session in both (the path wins)',
      { pathSessionId: 's-path', body: { sessionId: 's-body' } },
      [
        { tier: 'ip', key: '203.0.113.7', limit: 11 },
        { tier: 'session', key: 's-path|anonymous', limit: 12 },
      ],
    ],
    [
      'a verified token',
      { token },
      [
        { tier: 'ip', key: '203.0.113.7', limit: 11 },
        { tier: 'user', key: 'user-1', limit: 13 },
      ],
    ],
    [
      'a session and a verified token',
      { body: { sessionId: 's-1' }, token },
      [
        { tier: 'ip', key: '203.0.113.7', limit: 11 },
        { tier: 'session', key: 's-1|user:user-1', limit: 12 },
        { tier: 'user', key: 'user-1', limit: 13 },
      ],
    ],
    ['a malformed session', { body: { sessionId: 'bad id' } }, [{ tier: 'ip', key: '203.0.113.7', limit: 11 }]],
    ['a session too long', { body: { sessionId: 'x'.repeat(129) } }, [{ tier: 'ip', key: '203.0.113.7', limit: 11 }]],
    ['a numeric session', { body: { sessionId: 42 } }, [{ tier: 'ip', key: '203.0.113.7', limit: 11 }]],
    ['a body that is not an object', { body: 's-1' }, [{ tier: 'ip', key: '203.0.113.7', limit: 11 }]],
    ['a null body', { body: null }, [{ tier: 'ip', key: '203.0.113.7', limit: 11 }]],
    ['an IPv6 client', { ip: '2001:db8:1:2::99' }, [{ tier: 'ip', key: '2001:db8:1:2::/64', limit: 11 }]],
  ])('It should take the widget tiers for %s', (_label, input, expected) => {
    // Act
    const checks = tiersFor('widget', config)(request(input));

    // Assess
    expect(checks).toEqual(expected);
  });

  it.each<[string, 'admin' | 'server' | 'none', Parameters<typeof request>[0], LimitCheck[]]>([
    ['admin', 'admin', { body: { sessionId: 's-1' }, token }, [{ tier: 'admin-ip', key: '203.0.113.7', limit: 15 }]],
    ['admin over IPv6', 'admin', { ip: '2001:db8::5' }, [{ tier: 'admin-ip', key: '2001:db8:0:0::/64', limit: 15 }]],
    [
      'server',
      'server',
      { ip: '198.51.100.1', body: { userId: 'u' } },
      [{ tier: 'server-key', key: 'server', limit: 14 }],
    ],
    ['none', 'none', { body: { sessionId: 's-1' }, token }, []],
  ])('It should take only the %s tier for that credential', (_label, kind, input, expected) => {
    // Act
    const checks = tiersFor(kind, config)(request(input));

    // Assess
    expect(checks).toEqual(expected);
  });

  it.each<[string, string]>([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
  ])('It should count failed authentication from %s under the key %s', (ip, key) => {
    // Act
    const lockout = lockoutFor(config)(request({ ip }));

    // Assess
    expect(lockout).toEqual({ tier: 'auth-failure', key, limit: 16 });
  });

  it('It should take the default limits of the contract when none are set', () => {
    // Prepare
    const defaults = loadConfig({ LOG_LEVEL: 'silent' });
    const r = request({ body: { sessionId: 's-1' }, token });

    // Act
    const limits = [
      ...tiersFor('widget', defaults)(r),
      ...tiersFor('admin', defaults)(r),
      ...tiersFor('server', defaults)(r),
      lockoutFor(defaults)(r),
    ].map((c) => [c.tier, c.limit]);

    // Assess
    expect(limits).toEqual([
      ['ip', 60],
      ['session', 20],
      ['user', 30],
      ['admin-ip', 60],
      ['server-key', 120],
      ['auth-failure', 10],
    ]);
    expect(defaults.rateLimit.windowMs).toBe(60_000);
  });
});
