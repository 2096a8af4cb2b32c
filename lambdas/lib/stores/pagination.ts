/** Walking day partitions for the lists that span days (conversations, audit). */
import type { Page, PagePosition } from '../page.js';

/** A query over one partition, resumable from a key. */
export type PartitionQuery<T> = (
  partition: string,
  limit: number,
  startKey: PagePosition['key'],
) => Promise<{ items: T[]; lastKey: PagePosition['key'] }>;

/** How many day partitions are queried at once when a walk starts a fresh day. */
const PARALLEL_DAYS = 8;

/**
 * Walks day partitions newest first, filling up to `limit` items; the returned position
 * resumes exactly where this page stopped. Fresh days are queried `PARALLEL_DAYS` at a time
 * and consumed in order, so a sparse history costs a few round trips, not one per day.
 * An unknown day in `from` is a caller error (undefined).
 */
export async function walkDays<T>(
  days: readonly string[],
  limit: number,
  from: PagePosition | undefined,
  query: PartitionQuery<T>,
): Promise<Page<T> | undefined> {
  let index = from?.day === undefined ? 0 : days.indexOf(from.day);
  if (index < 0) return undefined;
  let key = from?.key;
  const items: T[] = [];
  while (index < days.length) {
    const want = limit - items.length;
    const batch = key === undefined ? days.slice(index, index + PARALLEL_DAYS) : [days[index] as string];
    const results = await Promise.all(batch.map((day, i) => query(day, want, i === 0 ? key : undefined)));
    for (const [i, result] of results.entries()) {
      const day = batch[i] as string;
      // A prefetched day with more than the room left is queried again with the smaller limit.
      if (result.items.length > limit - items.length) break;
      items.push(...result.items);
      key = result.lastKey;
      if (key === undefined) index += 1;
      if (items.length >= limit) {
        if (key !== undefined) return { items, next: { day, key } };
        return index < days.length ? { items, next: { day: days[index] as string } } : { items };
      }
      if (key !== undefined) break;
    }
  }
  return { items };
}
