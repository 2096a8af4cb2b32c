/** Small statistics and formatting helpers shared by the benchmarks. */

/** The `p`-th percentile (0–100) of `values` by nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** The median of `values`. */
export const median = (values: readonly number[]): number => percentile(values, 50);

/** `value` rounded to `digits` decimals. */
export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** A target's verdict as the table prints it: timings are reported, never passed or failed. */
export const verdict = (met: boolean): 'met' | 'missed' => (met ? 'met' : 'missed');

/** Renders rows as a fixed-width text table with a header rule. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  return [line(cells[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** A shuffled copy of `items` (Fisher–Yates), so interleaved variants take turns in random order. */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
