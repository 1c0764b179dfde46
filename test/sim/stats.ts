/** Summaries the scenarios print and assert on. */

export interface Summary {
  count: number;
  min: number;
  median: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (i: number): number => sorted[i] ?? Number.NaN;
  const mid = sorted.length >> 1;
  return {
    count: sorted.length,
    min: at(0),
    median: sorted.length % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2,
    max: at(sorted.length - 1),
  };
}

/** How many of `times` fall in each whole simulated second of [from, to). */
export function perSecond(times: readonly number[], from: number, to: number): number[] {
  const buckets = new Array<number>(Math.ceil((to - from) / 1_000)).fill(0);
  for (const time of times) {
    if (time < from || time >= to) continue;
    const bucket = Math.floor((time - from) / 1_000);
    buckets[bucket] = (buckets[bucket] ?? 0) + 1;
  }
  return buckets;
}

/** One table per scenario in the test output: a row per measured latency, in simulated ms. */
export function report(scenario: string, rows: Record<string, Summary>, notes: Record<string, number | string> = {}) {
  console.log(`\nsimulation: ${scenario}`);
  console.table(rows);
  if (Object.keys(notes).length > 0) console.table(notes);
}
