/**
 * In-memory budget counters and pause switch with DynamoDB's semantics (conditional reserve,
 * unconditional settle, mark-once), plus switches that make every call fail (a store outage).
 */
import type { BudgetChange, BudgetCounter, BudgetCounterRef, BudgetStore } from '../../lambdas/lib/budget.js';
import type { PauseState, PauseStore } from '../../lambdas/lib/chat-pause.js';

const idOf = (ref: BudgetCounterRef) => `${ref.scope}#${ref.key}#${ref.day}`;
const ZERO: BudgetCounter = { reserved: 0, inputTokens: 0, outputTokens: 0, turns: 0 };

/** Budget counters in a Map; `calls` counts requests, `down` makes each one throw. */
export class InMemoryBudgetStore implements BudgetStore {
  readonly counters = new Map<string, BudgetCounter>();
  readonly marked = new Set<string>();
  calls = 0;
  down = false;

  #call(): void {
    this.calls += 1;
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' });
  }

  /** The counter of `ref` (zeros when absent). */
  get(ref: BudgetCounterRef): BudgetCounter {
    return this.counters.get(idOf(ref)) ?? ZERO;
  }

  async reserve(ref: BudgetCounterRef, amount: number, cap: number): Promise<boolean> {
    this.#call();
    const current = this.get(ref);
    if (current.reserved + amount > cap) return false;
    this.counters.set(idOf(ref), { ...current, reserved: current.reserved + amount });
    return true;
  }

  async settle(ref: BudgetCounterRef, change: BudgetChange): Promise<void> {
    this.#call();
    const c = this.get(ref);
    this.counters.set(idOf(ref), {
      reserved: c.reserved + change.reserved,
      inputTokens: c.inputTokens + change.inputTokens,
      outputTokens: c.outputTokens + change.outputTokens,
      turns: c.turns + change.turns,
    });
  }

  async read(refs: readonly BudgetCounterRef[]): Promise<BudgetCounter[]> {
    this.#call();
    return refs.map((ref) => this.get(ref));
  }

  async markExceeded(ref: BudgetCounterRef): Promise<boolean> {
    this.#call();
    if (this.marked.has(idOf(ref))) return false;
    this.marked.add(idOf(ref));
    return true;
  }
}

/** The pause switch in memory; `reads` counts reads, `down` makes each call throw. */
export class InMemoryPauseStore implements PauseStore {
  state: PauseState | undefined;
  reads = 0;
  down = false;

  async get(): Promise<PauseState | undefined> {
    this.reads += 1;
    if (this.down) throw new Error('connect ECONNREFUSED');
    return this.state;
  }

  async put(state: PauseState): Promise<void> {
    if (this.down) throw new Error('connect ECONNREFUSED');
    this.state = state;
  }

  async delete(): Promise<void> {
    if (this.down) throw new Error('connect ECONNREFUSED');
    this.state = undefined;
  }
}
