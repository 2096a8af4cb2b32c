/**
 * Token budgets per UTC day (design §12, OWASP LLM10 "unbounded consumption"): per session, per
 * verified user, per anonymous client address and for the whole deployment. A turn reserves its
 * worst case against every budget that applies with atomic conditional updates (concurrent turns
 * cannot overshoot), then settles to what the model really used. The deployment budget is split
 * over `BUDGET_DEPLOYMENT_SHARDS` counters, each capped at `floor(budget / shards)`, so no single
 * item takes every chat's writes; a refused shard is retried once on another one. The DynamoDB
 * adapter is `stores/budget-store.ts`.
 */
import { randomInt } from 'node:crypto';
import { ownerOf, sessionOwnerKey, type Owner } from './conversation.js';
import { ServiceUnavailableError, type BudgetScope } from './errors.js';

/** Daily budgets in tokens (input + output); 0 turns one off. */
export interface BudgetLimits {
  readonly session: number;
  readonly user: number;
  readonly ip: number;
  readonly deployment: number;
  /** How many counters the deployment budget is split over. */
  readonly deploymentShards: number;
}

/** One counter item: a scope, a key within it (a session, a user, an address group, a shard) and a UTC day. */
export interface BudgetCounterRef {
  readonly scope: BudgetScope;
  readonly key: string;
  /** `YYYY-MM-DD`, UTC. */
  readonly day: string;
}

/** What one counter holds. */
export interface BudgetCounter {
  /** Tokens taken: settled usage plus reservations still in flight. */
  readonly reserved: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Answered turns. */
  readonly turns: number;
}

/** A change to one counter at settlement. */
export interface BudgetChange {
  /** Added to `reserved` (negative gives tokens back). */
  readonly reserved: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly turns: number;
}

/** Storage of budget counters; every call is one DynamoDB request. */
export interface BudgetStore {
  /** Adds `amount` to `reserved` unless the result would pass `cap`; true when taken. */
  reserve(ref: BudgetCounterRef, amount: number, cap: number, expiresAt: number): Promise<boolean>;
  /** Applies `change` unconditionally. */
  settle(ref: BudgetCounterRef, change: BudgetChange, expiresAt: number): Promise<void>;
  /** The counters, zeros for those that do not exist, in the order asked. */
  read(refs: readonly BudgetCounterRef[]): Promise<BudgetCounter[]>;
  /** Marks that `ref` refused a turn; true for the first mark only (one audit event per key and day). */
  markExceeded(ref: BudgetCounterRef, expiresAt: number): Promise<boolean>;
}

/** Who a turn is charged to. `userId` is set for verified token users, who are not charged per address. */
export interface BudgetSubject {
  readonly sessionId: string;
  readonly userId?: string;
  /** The client key of design §7 (IPv6 grouped by /64). */
  readonly clientKey: string;
}

/** Tokens one turn consumed; `estimated` when counted here rather than reported by the provider. */
export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly estimated: boolean;
}

const DAY_MS = 86_400_000;
/** How many refused scope keys an instance remembers having marked. */
const MAX_REMEMBERED_REFUSALS = 10_000;

/** The UTC day of `now` as `YYYY-MM-DD`. */
export const utcDay = (now: number): string => new Date(now).toISOString().slice(0, 10);

/** Whole seconds (≥ 1) from `now` to the next UTC midnight, when every budget starts afresh. */
export const secondsToNextUtcDay = (now: number): number =>
  Math.max(1, Math.ceil(((Math.floor(now / DAY_MS) + 1) * DAY_MS - now) / 1000));

/** Counters expire two days after their day ends (the usage API reads yesterday too). */
const expiryOf = (now: number): number => Math.floor(((Math.floor(now / DAY_MS) + 3) * DAY_MS) / 1000);

/** One scope's counter for a subject, with its daily limit. */
interface ScopeCounter {
  readonly scope: BudgetScope;
  readonly ref: BudgetCounterRef;
  readonly cap: number;
}

/** A turn's reservation: settle it once (or give it back); later calls do nothing. */
export interface Reservation {
  /** The tokens reserved per scope. */
  readonly amount: number;
  /** Charges `usage` (counting an answered turn when `answered`) and gives the rest back. */
  settle(usage: Omit<Usage, 'estimated'>, answered: boolean): Promise<void>;
  /** Gives everything back. */
  release(): Promise<void>;
}

/** The outcome of a reservation attempt. */
export type ReserveOutcome =
  | { readonly kind: 'reserved'; readonly reservation: Reservation }
  | {
      readonly kind: 'refused';
      readonly scope: BudgetScope;
      /** The counter to mark for the once-a-day audit event. */
      readonly ref: BudgetCounterRef;
      readonly retryAfter: number;
    };

/** A day's usage of one scope, for the usage API. */
export interface ScopeUsage extends BudgetCounter {
  /** The scope's daily budget; null when it is off. */
  readonly budget: number | null;
  readonly remaining: number | null;
}

export interface BudgetsOptions {
  readonly store: BudgetStore;
  readonly limits: BudgetLimits;
  readonly clock: () => number;
  /** A shard index below `n`. @default crypto.randomInt */
  readonly pickShard?: (n: number) => number;
  /** Logs a settlement that failed (the tokens stay taken until the day ends: the safe side). */
  readonly onSettleFailed?: (error: unknown) => void;
}

/** The budget ledger: reservation, settlement and the usage read. */
export class Budgets {
  readonly #store: BudgetStore;
  readonly #limits: BudgetLimits;
  readonly #clock: () => number;
  readonly #pickShard: (n: number) => number;
  readonly #onSettleFailed: (error: unknown) => void;
  readonly #marked = new Set<string>();

  constructor(options: BudgetsOptions) {
    this.#store = options.store;
    this.#limits = options.limits;
    this.#clock = options.clock;
    this.#pickShard = options.pickShard ?? ((n) => randomInt(n));
    this.#onSettleFailed = options.onSettleFailed ?? (() => undefined);
  }

  /** The daily limits. */
  get limits(): BudgetLimits {
    return this.#limits;
  }

  /** Each deployment shard's cap: the caps sum to at most the budget, so the shards together cannot pass it. */
  get shardCap(): number {
    return Math.floor(this.#limits.deployment / this.#limits.deploymentShards);
  }

  /** The counters a subject's turn is charged to on `day` (deployment: one shard, picked at random). */
  #countersOf(subject: BudgetSubject, day: string): ScopeCounter[] {
    const { session, user, ip, deployment } = this.#limits;
    const counters: ScopeCounter[] = [];
    const add = (scope: BudgetScope, key: string, cap: number) =>
      counters.push({ scope, ref: { scope, key, day }, cap });
    if (session > 0) add('session', sessionOwnerKey(subject.sessionId, ownerOf(subject.userId)), session);
    if (subject.userId !== undefined && user > 0) add('user', subject.userId, user);
    if (subject.userId === undefined && ip > 0) add('ip', subject.clientKey, ip);
    if (deployment > 0) add('deployment', String(this.#pickShard(this.#limits.deploymentShards)), this.shardCap);
    return counters;
  }

  /** Takes `amount` from one counter; a full deployment shard is retried once on another shard. */
  async #take(counter: ScopeCounter, amount: number, expiresAt: number): Promise<BudgetCounterRef | undefined> {
    if (await this.#store.reserve(counter.ref, amount, counter.cap, expiresAt)) return counter.ref;
    const shards = this.#limits.deploymentShards;
    if (counter.scope !== 'deployment' || shards < 2) return undefined;
    const other = (Number(counter.ref.key) + 1 + this.#pickShard(shards - 1)) % shards;
    const ref = { ...counter.ref, key: String(other) };
    return (await this.#store.reserve(ref, amount, counter.cap, expiresAt)) ? ref : undefined;
  }

  /**
   * Reserves `amount` tokens against every budget that applies, all in parallel. When one refuses,
   * the others are given back and the first refusing scope (in `BUDGET_SCOPES` order) is named.
   * A store failure gives back what was taken and throws `ServiceUnavailableError` (fail closed).
   */
  async reserve(subject: BudgetSubject, amount: number): Promise<ReserveOutcome> {
    const now = this.#clock();
    const expiresAt = expiryOf(now);
    const counters = this.#countersOf(subject, utcDay(now));
    const results = await Promise.allSettled(counters.map((c) => this.#take(c, amount, expiresAt)));
    const taken = results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
    const giveBack = () => this.#apply(taken, { reserved: -amount, inputTokens: 0, outputTokens: 0, turns: 0 });
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      await giveBack();
      throw new ServiceUnavailableError({ cause: failed.reason });
    }
    const refusedAt = results.findIndex((r) => r.status === 'fulfilled' && r.value === undefined);
    if (refusedAt >= 0) {
      await giveBack();
      const refused = counters[refusedAt] as ScopeCounter;
      const ref = refused.scope === 'deployment' ? { ...refused.ref, key: 'all' } : refused.ref;
      return { kind: 'refused', scope: refused.scope, ref, retryAfter: secondsToNextUtcDay(now) };
    }
    let done = false;
    const once = async (change: BudgetChange) => {
      if (done) return;
      done = true;
      await this.#apply(taken, change);
    };
    return {
      kind: 'reserved',
      reservation: {
        amount,
        settle: (usage, answered) =>
          once({
            reserved: usage.inputTokens + usage.outputTokens - amount,
            inputTokens: usage.inputTokens,
            outputTokens: usage.outputTokens,
            turns: answered ? 1 : 0,
          }),
        release: () => once({ reserved: -amount, inputTokens: 0, outputTokens: 0, turns: 0 }),
      },
    };
  }

  /**
   * Marks a refusal; true the first time per scope key and day, across instances (a conditional
   * write). Each instance remembers what it marked, so a flood of refusals is not a flood of
   * writes. A store failure counts as not first.
   */
  async firstRefusal(ref: BudgetCounterRef): Promise<boolean> {
    const id = `${ref.scope}#${ref.key}#${ref.day}`;
    if (this.#marked.has(id)) return false;
    if (this.#marked.size >= MAX_REMEMBERED_REFUSALS) this.#marked.clear();
    this.#marked.add(id);
    return this.#store.markExceeded(ref, expiryOf(this.#clock())).catch(() => false);
  }

  /** Settles every taken counter in parallel; a failure is reported, never thrown (the answer is kept). */
  async #apply(refs: readonly BudgetCounterRef[], change: BudgetChange): Promise<void> {
    const expiresAt = expiryOf(this.#clock());
    await Promise.all(
      refs.map((ref) => this.#store.settle(ref, change, expiresAt).catch((error) => this.#onSettleFailed(error))),
    );
  }

  /**
   * A day's usage of the deployment (every shard), one user or one session; a session's is its
   * owner's (`sessionOwner`, anonymous when not given): what strangers reserved was given back.
   */
  async usage(
    day: string,
    subject: { userId?: string; sessionId?: string; sessionOwner?: Owner },
  ): Promise<ScopeUsage> {
    const scope: BudgetScope =
      subject.userId !== undefined ? 'user' : subject.sessionId !== undefined ? 'session' : 'deployment';
    const keyOf = (): string =>
      subject.userId ?? sessionOwnerKey(subject.sessionId ?? '', subject.sessionOwner ?? ownerOf(undefined));
    const refs: BudgetCounterRef[] =
      scope === 'deployment'
        ? Array.from({ length: this.#limits.deploymentShards }, (_, i) => ({ scope, key: String(i), day }))
        : [{ scope, key: keyOf(), day }];
    const counters = await this.#store.read(refs);
    const sum = (field: keyof BudgetCounter) => counters.reduce((total, c) => total + c[field], 0);
    const inputTokens = sum('inputTokens');
    const outputTokens = sum('outputTokens');
    const limit = this.#limits[scope];
    return {
      reserved: sum('reserved'),
      inputTokens,
      outputTokens,
      turns: sum('turns'),
      budget: limit > 0 ? limit : null,
      remaining: limit > 0 ? Math.max(0, limit - inputTokens - outputTokens) : null,
    };
  }
}
