/**
 * Exact, distributed rate limiting (design §7): a sliding window approximated by two fixed
 * windows, the previous one weighted by how much of it still overlaps the sliding window.
 * Counts live in DynamoDB and are taken with atomic conditional increments, so with N concurrent
 * requests against a fresh limit L exactly L pass, on any number of instances. The previous
 * window's count never changes once it has closed, so each instance caches it (bounded).
 */
import { isIPv6 } from 'node:net';
import type { CounterRef, RateLimitStore } from './stores/rate-limit-store.js';

// The error lives with every other error code; re-exported for the modules that import it here.
export { RateLimitError } from './errors.js';

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
  /** Epoch seconds at which the current fixed window ends. */
  readonly resetAt: number;
  /** Whole seconds (≥ 1) after which a refused request may succeed. */
  readonly retryAfter: number;
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

  /** The closed previous window's count, weighted by its overlap with the sliding window. */
  async #previousWeighted(check: LimitCheck, window: number, weight: number): Promise<number> {
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
    return Math.floor((await count) * weight);
  }

  #result(check: LimitCheck, now: number, end: number, used: number | undefined, below: number): LimitResult {
    const allowed = used !== undefined;
    const resetAt = Math.ceil(end / 1000);
    // Refused: wait for this window to close, then for the closed window's weight to leave a free slot.
    const spill = Math.max(0, this.#windowMs * (1 - (check.limit - 1) / Math.max(below, 1)));
    const retryAfter = Math.max(1, Math.ceil((end - now + spill) / 1000));
    const remaining = allowed ? Math.max(0, check.limit - (check.limit - below) - used) : 0;
    return { tier: check.tier, key: check.key, limit: check.limit, allowed, remaining, resetAt, retryAfter };
  }

  /** Takes one request from every tier, all in parallel; each tier refuses atomically at its limit. */
  async consume(checks: readonly LimitCheck[]): Promise<LimitResult[]> {
    const now = this.#clock();
    const { window, end, weight } = this.#position(now);
    const expiresAt = Math.ceil((end + 2 * this.#windowMs) / 1000);
    return Promise.all(
      checks.map(async (check) => {
        const below = check.limit - (await this.#previousWeighted(check, window, weight));
        const used = await this.#store.incrementBelow({ tier: check.tier, key: check.key, window }, below, expiresAt);
        return this.#result(check, now, end, used, below);
      }),
    );
  }

  /** Whether `check` is already at its limit, without taking anything. */
  async isExhausted(check: LimitCheck): Promise<boolean> {
    const { window, weight } = this.#position(this.#clock());
    const [previous, current] = await Promise.all([
      this.#previousWeighted(check, window, weight),
      this.#store.read({ tier: check.tier, key: check.key, window }),
    ]);
    return previous + current >= check.limit;
  }

  /** Counts one event (a failed authentication) and says whether the tier is now exhausted. */
  async record(check: LimitCheck): Promise<{ exhausted: boolean; retryAfter: number }> {
    const now = this.#clock();
    const { window, end, weight } = this.#position(now);
    const [previous, current] = await Promise.all([
      this.#previousWeighted(check, window, weight),
      this.#store.increment({ tier: check.tier, key: check.key, window }, Math.ceil((end + 2 * this.#windowMs) / 1000)),
    ]);
    const result = this.#result(check, now, end, undefined, check.limit - previous);
    return { exhausted: previous + current > check.limit, retryAfter: result.retryAfter };
  }
}
