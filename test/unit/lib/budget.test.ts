import fc from 'fast-check';
import {
  Budgets,
  secondsToNextUtcDay,
  utcDay,
  type BudgetCounterRef,
  type BudgetLimits,
  type BudgetSubject,
  type Reservation,
} from '../../../lambdas/lib/budget.js';
import { BudgetExceededError, ServiceUnavailableError } from '../../../lambdas/lib/errors.js';
import { FakeClock } from '../../helpers/fake-runtime.js';
import { InMemoryBudgetStore } from '../../helpers/fake-budget-store.js';

const NOON = Date.UTC(2026, 10, 29, 12, 0, 0);
const OFF: BudgetLimits = { session: 0, user: 0, ip: 0, deployment: 0, deploymentShards: 1 };
const ANONYMOUS: BudgetSubject = { sessionId: 's-1', clientKey: '203.0.113.7' };
const USER: BudgetSubject = { sessionId: 's-1', clientKey: '203.0.113.7', userId: 'u-1' };

function ledger(limits: Partial<BudgetLimits>, options: { clock?: FakeClock; shard?: () => number } = {}) {
  const store = new InMemoryBudgetStore();
  const clock = options.clock ?? new FakeClock(NOON);
  let next = 0;
  const budgets = new Budgets({
    store,
    limits: { ...OFF, ...limits },
    clock: clock.now,
    pickShard: options.shard ?? (() => next++ % 1),
  });
  return { store, clock, budgets };
}

const ref = (scope: BudgetCounterRef['scope'], key: string, day = '2026-11-29'): BudgetCounterRef => ({
  scope,
  key,
  day,
});

async function reserved(budgets: Budgets, subject: BudgetSubject, amount: number): Promise<Reservation> {
  const outcome = await budgets.reserve(subject, amount);
  if (outcome.kind !== 'reserved') throw new Error(`refused by ${outcome.scope}`);
  return outcome.reservation;
}

describe('UTC days', () => {
  it.each([
    ['noon', NOON, '2026-11-29', 12 * 3600],
    ['the first millisecond of a day', Date.UTC(2026, 10, 29), '2026-11-29', 86400],
    ['the last second of a day', Date.UTC(2026, 10, 29, 23, 59, 59), '2026-11-29', 1],
    ['the last millisecond of a day', Date.UTC(2026, 10, 29, 23, 59, 59, 999), '2026-11-29', 1],
    ['the last day of a year', Date.UTC(2026, 11, 31, 23, 0, 0), '2026-12-31', 3600],
  ])('should place %s in its UTC day and count the seconds to the next one', (_, now, day, seconds) => {
    // Act / Assess
    expect(utcDay(now)).toBe(day);
    expect(secondsToNextUtcDay(now)).toBe(seconds);
  });
});

describe('Budgets.reserve and settle', () => {
  it('should refuse the reservation that would pass the budget, and take it once settlement gave tokens back', async () => {
    // Prepare
    const { budgets, store } = ledger({ session: 100 });
    const first = await reserved(budgets, ANONYMOUS, 40);
    await reserved(budgets, ANONYMOUS, 40);

    // Act
    const refused = await budgets.reserve(ANONYMOUS, 40);
    await first.settle({ inputTokens: 10, outputTokens: 5 }, true);
    const after = await budgets.reserve(ANONYMOUS, 40);

    // Assess
    expect(refused).toMatchObject({ kind: 'refused', scope: 'session', retryAfter: 12 * 3600 });
    expect(after.kind).toBe('reserved');
    expect(store.get(ref('session', 's-1|anonymous'))).toEqual({
      reserved: 95,
      inputTokens: 10,
      outputTokens: 5,
      turns: 1,
    });
  });

  it('should take a reservation that fits the budget exactly', async () => {
    const { budgets } = ledger({ session: 80 });
    await reserved(budgets, ANONYMOUS, 40);
    expect((await budgets.reserve(ANONYMOUS, 40)).kind).toBe('reserved');
    expect((await budgets.reserve(ANONYMOUS, 1)).kind).toBe('refused');
  });

  it.each([
    ['session', { session: 10 }, ANONYMOUS],
    ['user', { user: 10 }, USER],
    ['ip', { ip: 10 }, ANONYMOUS],
    ['deployment', { deployment: 10 }, USER],
  ] as const)('should refuse a turn over the %s budget', async (scope, limits, subject) => {
    // Prepare
    const { budgets } = ledger(limits);

    // Act
    const outcome = await budgets.reserve(subject, 11);

    // Assess
    expect(outcome).toMatchObject({ kind: 'refused', scope });
  });

  it.each([
    ['a verified user is not charged per address', { ip: 10 }, USER],
    ['an anonymous caller is not charged per user', { user: 10 }, ANONYMOUS],
    ['every budget is off', {}, USER],
  ] as const)('should not refuse when %s', async (_, limits, subject) => {
    const { budgets } = ledger(limits);
    expect((await budgets.reserve(subject, 11)).kind).toBe('reserved');
  });

  it.each([
    ['another user', { ...USER, userId: 'u-2' }],
    ['an anonymous caller', ANONYMOUS],
  ])("should keep a session's budget per owner: %s exhausting it leaves the owner's intact", async (_, stranger) => {
    // Prepare
    const { budgets } = ledger({ session: 100 });
    await reserved(budgets, stranger, 100);
    expect((await budgets.reserve(stranger, 1)).kind).toBe('refused');

    // Act
    const owner = await budgets.reserve(USER, 100);

    // Assess
    expect(owner.kind).toBe('reserved');
  });

  it('should name the first scope that does not fit, in the order session, user, ip, deployment', async () => {
    const { budgets } = ledger({ session: 10, user: 10, deployment: 10 });
    expect(await budgets.reserve(USER, 11)).toMatchObject({ kind: 'refused', scope: 'session' });
  });

  it('should give back what the other scopes reserved when one refuses', async () => {
    // Prepare
    const { budgets, store } = ledger({ session: 100, ip: 100, deployment: 10 });

    // Act
    await budgets.reserve(ANONYMOUS, 40);

    // Assess
    expect(store.get(ref('session', 's-1|anonymous')).reserved).toBe(0);
    expect(store.get(ref('ip', '203.0.113.7')).reserved).toBe(0);
    expect(store.get(ref('deployment', '0')).reserved).toBe(0);
  });

  it('should fail closed and give back what was taken when the store fails for one scope', async () => {
    // Prepare
    const { budgets, store } = ledger({ session: 100, deployment: 100 });
    const reserve = store.reserve.bind(store);
    store.reserve = async (r, amount, cap) => {
      if (r.scope === 'deployment') throw new Error('connect ECONNREFUSED');
      return reserve(r, amount, cap);
    };

    // Act / Assess
    await expect(budgets.reserve(ANONYMOUS, 40)).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(store.get(ref('session', 's-1|anonymous')).reserved).toBe(0);
  });

  it.each([
    ['release', (r: Reservation) => r.release(), { reserved: 0, inputTokens: 0, outputTokens: 0, turns: 0 }],
    [
      'settlement of a failed call',
      (r: Reservation) => r.settle({ inputTokens: 7, outputTokens: 0 }, false),
      { reserved: 7, inputTokens: 7, outputTokens: 0, turns: 0 },
    ],
  ])('should give the unused reservation back on %s, once only', async (_, end, expected) => {
    // Prepare
    const { budgets, store } = ledger({ session: 100 });
    const reservation = await reserved(budgets, ANONYMOUS, 40);

    // Act
    await end(reservation);
    await end(reservation);
    await reservation.release();
    await reservation.settle({ inputTokens: 1, outputTokens: 1 }, true);

    // Assess
    expect(store.get(ref('session', 's-1|anonymous'))).toEqual(expected);
  });

  it('should settle on the day the tokens were reserved, and start the next day afresh', async () => {
    // Prepare
    const clock = new FakeClock(Date.UTC(2026, 10, 29, 23, 59, 59, 900));
    const { budgets, store } = ledger({ session: 50 }, { clock });
    const lateTurn = await reserved(budgets, ANONYMOUS, 50);
    expect((await budgets.reserve(ANONYMOUS, 1)).kind).toBe('refused');

    // Act
    clock.advance(200);
    const nextDay = await budgets.reserve(ANONYMOUS, 50);
    await lateTurn.settle({ inputTokens: 20, outputTokens: 10 }, true);

    // Assess
    expect(nextDay.kind).toBe('reserved');
    expect(store.get(ref('session', 's-1|anonymous', '2026-11-29'))).toMatchObject({ reserved: 30, turns: 1 });
    expect(store.get(ref('session', 's-1|anonymous', '2026-11-30'))).toMatchObject({ reserved: 50, turns: 0 });
  });

  it('should report a settlement failure instead of throwing', async () => {
    // Prepare
    const store = new InMemoryBudgetStore();
    const failures: unknown[] = [];
    const budgets = new Budgets({
      store,
      limits: { ...OFF, session: 100 },
      clock: () => NOON,
      onSettleFailed: (e) => failures.push(e),
    });
    const reservation = await reserved(budgets, ANONYMOUS, 40);
    store.down = true;

    // Act
    await reservation.settle({ inputTokens: 1, outputTokens: 1 }, true);

    // Assess
    expect(failures).toHaveLength(1);
  });

  it('should mark a refused scope key once per day, across calls', async () => {
    const { budgets } = ledger({ session: 10 });
    const outcome = await budgets.reserve(ANONYMOUS, 11);
    if (outcome.kind !== 'refused') throw new Error('expected a refusal');
    expect(await budgets.firstRefusal(outcome.ref)).toBe(true);
    expect(await budgets.firstRefusal(outcome.ref)).toBe(false);
    expect(await budgets.firstRefusal({ ...outcome.ref, day: '2026-11-30' })).toBe(true);
  });

  it('should carry the scope and the time to midnight in BUDGET_EXCEEDED', () => {
    const error = new BudgetExceededError('ip', 3600);
    expect(error).toMatchObject({ status: 429, code: 'BUDGET_EXCEEDED', details: [{ path: 'budget', message: 'ip' }] });
    expect(error.headers['Retry-After']).toBe('3600');
  });
});

describe('the sharded deployment budget', () => {
  it.each([
    [2_000_000, 32, 62_500],
    [1000, 3, 333],
    [10, 32, 0],
  ])('should cap each of the shards of a %i-token budget over %i shards at %i', (budget, shards, cap) => {
    const { budgets } = ledger({ deployment: budget, deploymentShards: shards });
    expect(budgets.shardCap).toBe(cap);
    expect(budgets.shardCap * shards).toBeLessThanOrEqual(budget);
  });

  it('should try one other shard when the picked one is full', async () => {
    // Prepare
    const picks = [0, 0, 0, 1];
    const { budgets, store } = ledger({ deployment: 100, deploymentShards: 4 }, { shard: () => picks.shift() ?? 0 });
    await reserved(budgets, ANONYMOUS, 25);

    // Act
    const outcome = await budgets.reserve(ANONYMOUS, 25);

    // Assess: shard 0 was full, the fallback 0 + 1 + 0 = 1 took it.
    expect(outcome.kind).toBe('reserved');
    expect(store.get(ref('deployment', '1')).reserved).toBe(25);
  });

  it('should never let reservations pass the budget, whatever the shards picked and the order of turns', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 10, max: 500 }),
        fc.array(fc.record({ amount: fc.integer({ min: 1, max: 60 }), settleFirst: fc.boolean() }), {
          maxLength: 60,
        }),
        fc.infiniteStream(fc.nat()),
        async (shards, budget, turns, picks) => {
          // Prepare
          const { budgets, store } = ledger(
            { deployment: budget, deploymentShards: shards },
            { shard: () => picks.next().value % shards },
          );
          const open: Array<{ reservation: Reservation; amount: number }> = [];
          const total = () => [...store.counters.values()].reduce((sum, c) => sum + c.reserved, 0);

          for (const turn of turns) {
            // Act: settle an open turn to at most what it reserved, then reserve another.
            if (turn.settleFirst && open.length > 0) {
              const { reservation, amount } = open.shift()!;
              await reservation.settle({ inputTokens: Math.floor(amount / 2), outputTokens: 0 }, true);
            }
            const outcome = await budgets.reserve(ANONYMOUS, turn.amount);
            if (outcome.kind === 'reserved') open.push({ reservation: outcome.reservation, amount: turn.amount });

            // Assess: the overshoot bound is zero while settlements stay within their reservations.
            expect(total()).toBeLessThanOrEqual(budget);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('should overshoot by no more than what providers report beyond the reservations', async () => {
    // Prepare: every shard full, each turn reported 5 tokens more than it reserved.
    const { budgets, store } = ledger(
      { deployment: 100, deploymentShards: 4 },
      {
        shard: (() => {
          let i = 0;
          return () => i++ % 4;
        })(),
      },
    );
    const turns = await Promise.all([0, 1, 2, 3].map(() => reserved(budgets, ANONYMOUS, 25)));

    // Act
    await Promise.all(turns.map((t) => t.settle({ inputTokens: 25, outputTokens: 5 }, true)));
    const total = [...store.counters.values()].reduce((sum, c) => sum + c.reserved, 0);

    // Assess
    expect(total).toBe(100 + 4 * 5);
    expect((await budgets.reserve(ANONYMOUS, 1)).kind).toBe('refused');
  });
});

describe('Budgets.usage', () => {
  it('should add up every deployment shard and report the budget left', async () => {
    // Prepare
    let i = 0;
    const { budgets } = ledger({ deployment: 1000, deploymentShards: 4 }, { shard: () => i++ % 4 });
    const turns = await Promise.all([0, 1, 2].map(() => reserved(budgets, ANONYMOUS, 100)));
    await Promise.all(turns.map((t) => t.settle({ inputTokens: 30, outputTokens: 20 }, true)));

    // Act
    const usage = await budgets.usage('2026-11-29', {});

    // Assess
    expect(usage).toEqual({
      reserved: 150,
      inputTokens: 90,
      outputTokens: 60,
      turns: 3,
      budget: 1000,
      remaining: 850,
    });
  });

  it.each([
    ['a user', { userId: 'u-1' }, USER, { user: 500 }],
    ['an anonymous session', { sessionId: 's-1' }, ANONYMOUS, { session: 500 }],
    ["a user's session", { sessionId: 's-1', sessionOwner: { kind: 'user', userId: 'u-1' } }, USER, { session: 500 }],
  ] as const)('should report %s', async (_, query, subject, limits) => {
    const { budgets } = ledger(limits);
    await (await reserved(budgets, subject, 100)).settle({ inputTokens: 400, outputTokens: 200 }, true);
    expect(await budgets.usage('2026-11-29', query)).toMatchObject({
      inputTokens: 400,
      outputTokens: 200,
      turns: 1,
      budget: 500,
      remaining: 0,
    });
  });

  it('should report null for a budget that is off', async () => {
    const { budgets } = ledger({});
    expect(await budgets.usage('2026-11-29', {})).toMatchObject({ budget: null, remaining: null });
  });
});
