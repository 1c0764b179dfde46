import type { HttpClient } from './http.js';

/** The queen's `/metrics` as numbers, read the way a Prometheus server would (text format 0.0.4). */
export class Scrape {
  constructor(private readonly samples: ReadonlyMap<string, number>) {}

  /** One sample by name and exact label set; undefined when absent. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    return this.samples.get(sampleKey(name, labels));
  }

  /** Like `value`, but a missing sample is an error. */
  require(name: string, labels: Record<string, string> = {}): number {
    const value = this.value(name, labels);
    if (value === undefined) throw new Error(`/metrics has no ${sampleKey(name, labels)}`);
    return value;
  }

  /** A histogram's cumulative buckets (`le` ascending), count and sum. */
  histogram(name: string): HistogramSample {
    const buckets: { le: number; count: number }[] = [];
    for (const [key, count] of this.samples) {
      const match = /^(.+)_bucket\{le=([^}]+)\}$/.exec(key);
      if (match?.[1] === name && match[2] !== undefined) buckets.push({ le: numberOf(match[2]), count });
    }
    buckets.sort((a, b) => a.le - b.le);
    return { buckets, count: this.require(`${name}_count`), sum: this.require(`${name}_sum`) };
  }
}

export interface HistogramSample {
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

/** What a histogram saw between two scrapes. */
export function histogramDelta(before: HistogramSample, after: HistogramSample): HistogramSample {
  return {
    buckets: after.buckets.map(({ le, count }) => ({
      le,
      count: count - (before.buckets.find((bucket) => bucket.le === le)?.count ?? 0),
    })),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/** The upper bound of the bucket holding quantile `q`: a histogram cannot say more. */
export function quantileBound(histogram: HistogramSample, q: number): number {
  const rank = q * histogram.count;
  for (const { le, count } of histogram.buckets) if (count >= rank) return le;
  return Number.POSITIVE_INFINITY;
}

export async function scrape(client: HttpClient): Promise<Scrape> {
  const reply = await client.get('/metrics');
  if (reply.status !== 200) throw new Error(`GET /metrics answered ${reply.status}`);
  return parsePrometheus(reply.body);
}

export function parsePrometheus(text: string): Scrape {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      if (name !== undefined && value !== undefined) labels[name] = value;
    }
    samples.set(sampleKey(match[1], labels), numberOf(match[3]));
  }
  return new Scrape(samples);
}

/** Label order as printed does not matter: the key sorts them. */
function sampleKey(name: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, value]) => `${label}=${value}`);
  return pairs.length === 0 ? name : `${name}{${pairs.join(',')}}`;
}

function numberOf(text: string): number {
  return text === '+Inf' ? Number.POSITIVE_INFINITY : Number(text);
}
