import type { Page, PagePosition } from '../../../../lambdas/lib/page.js';
import { walkDays, type PartitionQuery } from '../../../../lambdas/lib/stores/pagination.js';

interface Item {
  readonly id: string;
  /** False for items a DynamoDB FilterExpression would drop after reading them. */
  readonly visible: boolean;
}

const DAYS = [
  '2025-01-15',
  '2025-01-14',
  '2025-01-13',
  '2025-01-12',
  '2025-01-11',
  '2025-01-10',
  '2025-01-09',
  '2025-01-08',
  '2025-01-07',
  '2025-01-06',
  '2025-01-05',
  '2025-01-04',
];

/** Builds day partitions: `counts[i]` items on `DAYS[i]`; every `hideEvery`-th item is filtered out. */
function partitions(counts: readonly number[], hideEvery = 0): Map<string, Item[]> {
  const data = new Map<string, Item[]>();
  counts.forEach((count, d) => {
    data.set(
      DAYS[d]!,
      Array.from({ length: count }, (_, i) => ({
        id: `${DAYS[d]}#${String(i).padStart(3, '0')}`,
        visible: hideEvery === 0 || (i + 1) % hideEvery !== 0,
      })),
    );
  });
  return data;
}

/**
 * A query with DynamoDB semantics: `Limit` counts items read before the filter, and
 * `LastEvaluatedKey` is returned whenever the read stopped at the limit (even at the very end,
 * when `exactEndKey` is true, as DynamoDB does).
 */
function fakeQuery(data: Map<string, Item[]>, exactEndKey: boolean) {
  const calls: { partition: string; limit: number; startKey: PagePosition['key'] }[] = [];
  const query: PartitionQuery<Item> = async (partition, limit, startKey) => {
    calls.push({ partition, limit, startKey });
    const all = data.get(partition) ?? [];
    const start = startKey === undefined ? 0 : Number(startKey.i);
    if (startKey !== undefined && startKey.pk !== partition) throw new Error('start key of another partition');
    const read = all.slice(start, start + limit);
    const end = start + read.length;
    const stoppedAtLimit = read.length === limit && (exactEndKey || end < all.length);
    return {
      items: read.filter((item) => item.visible),
      lastKey: stoppedAtLimit ? { pk: partition, i: end } : undefined,
    };
  };
  return { query, calls };
}

/** Walks every page, passing each position through JSON as a cursor would. */
async function walkAll(query: PartitionQuery<Item>, limit: number): Promise<Page<Item>[]> {
  const pages: Page<Item>[] = [];
  let from: PagePosition | undefined;
  for (let guard = 0; guard < 500; guard += 1) {
    const page = await walkDays(DAYS, limit, from, query);
    if (!page) throw new Error('walkDays refused its own position');
    pages.push(page);
    if (!page.next) return pages;
    from = JSON.parse(JSON.stringify(page.next)) as PagePosition;
  }
  throw new Error('the walk did not end');
}

const expected = (data: Map<string, Item[]>): string[] =>
  DAYS.flatMap((day) => (data.get(day) ?? []).filter((i) => i.visible).map((i) => i.id));

describe('walkDays', () => {
  const layouts: [string, number[], number][] = [
    ['one busy day', [25], 0],
    ['every day busy', [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7], 0],
    ['a sparse history', [0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 1], 0],
    ['uneven days', [1, 0, 12, 2, 0, 9, 0, 0, 1, 0, 0, 5], 0],
    ['data only on the last day', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6], 0],
    ['nothing at all', [], 0],
    ['filtered items (every third hidden)', [10, 0, 8, 3, 0, 0, 11, 0, 0, 2, 0, 4], 3],
    ['heavily filtered items (every second hidden)', [9, 9, 0, 0, 9, 0, 0, 0, 9, 0, 0, 9], 2],
  ];
  const cases = layouts.flatMap(([label, counts, hide]) =>
    [1, 2, 3, 5, 8, 13, 100].flatMap((limit) =>
      [false, true].map((exactEndKey) => [label, limit, exactEndKey, counts, hide] as const),
    ),
  );

  it.each(cases)(
    'It should page through %s with limit %d (key at end: %s) without duplicates or gaps',
    async (_label, limit, exactEndKey, counts, hide) => {
      // Prepare
      const data = partitions(counts, hide);
      const { query } = fakeQuery(data, exactEndKey);

      // Act
      const pages = await walkAll(query, limit);

      // Assess
      const ids = pages.flatMap((p) => p.items.map((i) => i.id));
      expect(ids).toEqual(expected(data));
      for (const page of pages.slice(0, -1)) expect(page.items).toHaveLength(limit);
      expect(pages.at(-1)!.items.length).toBeLessThanOrEqual(limit);
      expect(pages.at(-1)!.next).toBeUndefined();
    },
  );

  it('It should fill a page across several days, newest day first', async () => {
    // Prepare
    const { query } = fakeQuery(partitions([2, 0, 2, 2]), false);

    // Act
    const page = await walkDays(DAYS, 5, undefined, query);

    // Assess
    expect(page?.items.map((i) => i.id)).toEqual([
      '2025-01-15#000',
      '2025-01-15#001',
      '2025-01-13#000',
      '2025-01-13#001',
      '2025-01-12#000',
    ]);
    expect(page?.next).toEqual({ day: '2025-01-12', key: { pk: '2025-01-12', i: 1 } });
  });

  it('It should point the next page at the following day when a day ends exactly at the limit', async () => {
    // Prepare
    const { query } = fakeQuery(partitions([3, 0, 2]), false);

    // Act
    const page = await walkDays(DAYS, 3, undefined, query);

    // Assess
    expect(page?.items).toHaveLength(3);
    expect(page?.next).toEqual({ day: '2025-01-14' });
  });

  it('It should return no next position when the last day is used up', async () => {
    // Prepare
    const counts = Array.from({ length: DAYS.length }, (_, i) => (i === DAYS.length - 1 ? 2 : 0));
    const { query } = fakeQuery(partitions(counts), false);

    // Act
    const page = await walkDays(DAYS, 2, { day: DAYS.at(-1) }, query);

    // Assess
    expect(page).toEqual({ items: expect.any(Array) as unknown });
    expect(page?.items).toHaveLength(2);
    expect(page?.next).toBeUndefined();
  });

  it('It should resume exactly from a position with a key', async () => {
    // Prepare
    const { query, calls } = fakeQuery(partitions([0, 0, 6]), false);

    // Act
    const page = await walkDays(DAYS, 2, { day: '2025-01-13', key: { pk: '2025-01-13', i: 3 } }, query);

    // Assess
    expect(page?.items.map((i) => i.id)).toEqual(['2025-01-13#003', '2025-01-13#004']);
    expect(calls[0]).toEqual({ partition: '2025-01-13', limit: 2, startKey: { pk: '2025-01-13', i: 3 } });
  });

  it('It should keep reading a partition that returned a key but fewer items than asked (a filter)', async () => {
    // Prepare: the first two reads return nothing visible
    const data = new Map<string, Item[]>([
      [
        DAYS[0]!,
        [
          ...Array.from({ length: 6 }, (_, i) => ({ id: `hidden-${i}`, visible: false })),
          { id: 'a', visible: true },
          { id: 'b', visible: true },
        ],
      ],
    ]);
    const { query } = fakeQuery(data, false);

    // Act
    const page = await walkDays(DAYS, 3, undefined, query);

    // Assess
    expect(page?.items.map((i) => i.id)).toEqual(['a', 'b']);
    expect(page?.next).toBeUndefined();
  });

  it('It should refuse a position on a day outside the walk', async () => {
    // Prepare
    const { query, calls } = fakeQuery(partitions([3]), false);

    // Act
    const page = await walkDays(DAYS, 2, { day: '2024-01-01' }, query);

    // Assess
    expect(page).toBeUndefined();
    expect(calls).toHaveLength(0);
  });

  it('It should prefetch fresh days in parallel rather than one round trip per day', async () => {
    // Prepare
    const { query, calls } = fakeQuery(partitions([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), false);
    let inFlight = 0;
    let maxInFlight = 0;
    const tracked: PartitionQuery<Item> = async (...args) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await Promise.resolve();
      try {
        return await query(...args);
      } finally {
        inFlight -= 1;
      }
    };

    // Act
    const page = await walkDays(DAYS, 5, undefined, tracked);

    // Assess
    expect(page?.items).toHaveLength(1);
    expect(calls.map((c) => c.partition)).toEqual(DAYS);
    expect(maxInFlight).toBe(8);
  });
});
