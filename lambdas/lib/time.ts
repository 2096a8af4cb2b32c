/** Small date helpers shared by the stores; all times are UTC. */

export const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of an epoch-millisecond instant. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** ISO 8601 of an epoch-millisecond instant. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Epoch seconds (the unit of DynamoDB TTL attributes). */
export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);

/** The days from `fromMs` back `count` days, newest first. */
export function daysBack(fromMs: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => dayOf(fromMs - i * DAY_MS));
}
