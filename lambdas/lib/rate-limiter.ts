/**
 * Exact, distributed rate limiting (design §7): a sliding window approximated by two fixed
 * windows, the previous one weighted by how much of it still overlaps the sliding window.
 * Counts live in DynamoDB and are taken with atomic conditional increments, so with N concurrent
 * requests against a fresh limit L exactly L pass, on any number of instances. The previous
 * window's count never changes once it has closed, so each instance caches it (bounded).
 */
import { isIPv6 } from 'node:net';

/** One counter: which tier, which key (an IP group, a session, a user…), which window. */
export interface CounterRef {
  readonly tier: string;
  readonly key: string;
  /** The window index: `floor(epochMs / windowMs)`. */
  readonly window: number;
}

/** Storage of counters. */
export interface RateLimitStore {
  /** The count of a counter (0 when it does not exist). */
  read(counter: CounterRef): Promise<number>;
  /** Adds one unless the count has reached `below`; returns the new count, or undefined when refused. */
  incrementBelow(counter: CounterRef, below: number, expiresAt: number): Promise<number | undefined>;
  /** Adds one unconditionally; returns the new count. */
  increment(counter: CounterRef, expiresAt: number): Promise<number>;
  /** Takes one back from a counter above 0 (a request refused for another reason after it counted); else nothing. */
  decrement(counter: CounterRef): Promise<void>;
}

/** One limit to apply: `limit` requests per window for `key` in `tier`. */
export interface LimitCheck {
  readonly tier: string;
  readonly key: string;
  readonly limit: number;
}

/** The state of one tier after a request. */
export interface LimitResult {
  readonly tier: string;
  readonly key: string;
  readonly limit: number;
  readonly allowed: boolean;
  readonly remaining: number;
  /**
   * Epoch seconds: when allowed, the end of the current fixed window; when refused, the first
   * whole second by which the same request passes (now + `retryAfter`, rounded up).
   */
  readonly resetAt: number;
  /** Refused: the first whole number of seconds after which the same request passes (≥ 1); allowed: 1. */
  readonly retryAfter: number;
  /** The fixed window the request was counted in (allowed by `consume`), for `giveBack`. */
  readonly window?: number;
}

export interface RateLimiterOptions {
  readonly store: RateLimitStore;
  readonly windowMs: number;
  readonly clock?: () => number;
  /** @default 10000 previous-window counts cached per instance */
  readonly cacheSize?: number;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail counts as two). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
}

/**
 * Groups a client address: IPv4 as is (also when written as IPv4-mapped IPv6), IPv6 by its /64
 * prefix, since one host or subscriber owns a whole /64.
 */
export function clientKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The limiter shared by the rate-limit middleware and the failed-authentication lockout. */
export class RateLimiter {
  readonly #store: RateLimitStore;
  readonly #windowMs: number;
  readonly #clock: () => number;
  readonly #cacheSize: number;
  readonly #previous = new Map<string, Promise<number>>();

  constructor(options: RateLimiterOptions) {
    this.#store = options.store;
    this.#windowMs = options.windowMs;
    this.#clock = options.clock ?? Date.now;
    this.#cacheSize = options.cacheSize ?? 10_000;
  }

  /** The length of one window in milliseconds. */
  get windowMs(): number {
    return this.#windowMs;
  }

  #position(now: number) {
    const window = Math.floor(now / this.#windowMs);
    const end = (window + 1) * this.#windowMs;
    return { window, end, weight: (end - now) / this.#windowMs };
  }

  /** The closed previous window's count (cached: it never changes once the window has closed). */
  async #previousCount(check: LimitCheck, window: number): Promise<number> {
    const ref: CounterRef = { tier: check.tier, key: check.key, window: window - 1 };
    const id = `${ref.tier}#${ref.key}#${ref.window}`;
    let count = this.#previous.get(id);
    if (count === undefined) {
      // Concurrent misses share one read; a failed read is forgotten so the next request retries.
      count = this.#store.read(ref);
      count.catch(() => this.#previous.delete(id));
      if (this.#previous.size >= this.#cacheSize) this.#previous.delete(this.#previous.keys().next().value as string);
      this.#previous.set(id, count);
    }
    return count;
  }

  /** A window's count weighted by how much of the window still overlaps the sliding window ending at `at`. */
  #weighted(count: number, at: number): number {
    return Math.floor(count * this.#position(at).weight);
  }

  /**
   * Whether a request at `at` would pass, given the counts of window `window - 1` (`previous`) and
   * `window` (`current`) and no other traffic: the same arithmetic as `consume`, moved forward in time.
   */
  #passesAt(limit: number, window: number, previous: number, current: number, at: number): boolean {
    const later = this.#position(at).window - window;
    if (later === 0) return this.#weighted(previous, at) + current < limit;
    if (later === 1) return this.#weighted(current, at) < limit;
    return limit > 0;
  }

  /**
   * The first whole number of seconds (≥ 1) after `now` at which the same request passes, so a
   * client that waits `Retry-After` is never early and at most one second late (RFC 9110 §10.2.3).
   * The allowed set only grows with time absent traffic, so the first passing second is the answer.
   */
  #retryAfter(limit: number, window: number, previous: number, current: number, now: number): number {
    const horizon = Math.ceil((2 * this.#windowMs) / 1000) + 1;
    for (let seconds = 1; seconds < horizon; seconds += 1) {
      if (this.#passesAt(limit, window, previous, current, now + seconds * 1000)) return seconds;
    }
    return horizon;
  }

  /** The result of a request at `now`; a refused one says when the same request passes, in every field. */
  #result(
    check: LimitCheck,
    now: number,
    counts: { window: number; previous: number; current: number },
    used: number | undefined,
    below: number,
  ): LimitResult {
    const { key, tier, limit } = check;
    if (used !== undefined) {
      const resetAt = Math.ceil(this.#position(now).end / 1000);
      const { window } = counts;
      return { tier, key, limit, allowed: true, remaining: Math.max(0, below - used), resetAt, retryAfter: 1, window };
    }
    const retryAfter = this.#retryAfter(limit, counts.window, counts.previous, counts.current, now);
    const resetAt = Math.ceil((now + retryAfter * 1000) / 1000);
    return { tier, key, limit, allowed: false, remaining: 0, resetAt, retryAfter };
  }

  /** Takes one request from every tier, all in parallel; each tier refuses atomically at its limit. */
  async consume(checks: readonly LimitCheck[]): Promise<LimitResult[]> {
    const now = this.#clock();
    const { window, end } = this.#position(now);
    const expiresAt = Math.ceil((end + 2 * this.#windowMs) / 1000);
    return Promise.all(
      checks.map(async (check) => {
        const previous = await this.#previousCount(check, window);
        const below = check.limit - this.#weighted(previous, now);
        const ref = { tier: check.tier, key: check.key, window };
        const used = await this.#store.incrementBelow(ref, below, expiresAt);
        // Refused: when the same request will pass depends on the current count, read only then.
        const current = used ?? (await this.#store.read(ref));
        return this.#result(check, now, { window, previous, current }, used, below);
      }),
    );
  }

  /**
   * Gives back what `consume` took for a request that was then refused for another reason (a
   * revoked token): each tier it was counted in is decremented, so the refused request costs its
   * caller (and the user a stolen token names) nothing. Tiers that refused took nothing.
   */
  async giveBack(results: readonly LimitResult[]): Promise<void> {
    await Promise.all(
      results.flatMap((r) =>
        r.allowed && r.window !== undefined
          ? [this.#store.decrement({ tier: r.tier, key: r.key, window: r.window })]
          : [],
      ),
    );
  }

  /** The state of `check` without taking anything: `allowed` is false while it is at its limit. */
  async peek(check: LimitCheck): Promise<LimitResult> {
    const now = this.#clock();
    const { window } = this.#position(now);
    const [previous, current] = await Promise.all([
      this.#previousCount(check, window),
      this.#store.read({ tier: check.tier, key: check.key, window }),
    ]);
    const below = check.limit - this.#weighted(previous, now);
    const exhausted = current >= below;
    return this.#result(check, now, { window, previous, current }, exhausted ? undefined : current, below);
  }

  /** Whether `check` is already at its limit, without taking anything. */
  async isExhausted(check: LimitCheck): Promise<boolean> {
    return !(await this.peek(check)).allowed;
  }

  /**
   * Counts one event (a failed authentication) and says whether the tier is now past its limit,
   * and after how many whole seconds a request checked with `isExhausted` passes again.
   */
  async record(check: LimitCheck): Promise<{ exhausted: boolean; retryAfter: number }> {
    const now = this.#clock();
    const { window, end } = this.#position(now);
    const [previous, current] = await Promise.all([
      this.#previousCount(check, window),
      this.#store.increment({ tier: check.tier, key: check.key, window }, Math.ceil((end + 2 * this.#windowMs) / 1000)),
    ]);
    const exhausted = this.#weighted(previous, now) + current > check.limit;
    return { exhausted, retryAfter: this.#retryAfter(check.limit, window, previous, current, now) };
  }
}
