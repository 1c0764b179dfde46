import { z } from 'zod';
import { Id, NonNegativeInt, Timestamp } from './common.js';

const STEP_UNITS_S: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };
/** The widest bucket a metrics query may ask for. */
export const MAX_STEP_S = 86_400;

/** `30s`, `1m`, `1h`: the width of the buckets whose samples are averaged, as whole seconds. */
const MetricsStep = z
  .string()
  .regex(/^[1-9]\d{0,5}[smh]$/, 'expected a whole number of s, m or h, such as 30s or 1m')
  .transform((text) => Number(text.slice(0, -1)) * (STEP_UNITS_S[text.slice(-1)] ?? 1))
  .pipe(z.number().max(MAX_STEP_S, `expected at most ${MAX_STEP_S / 3600}h`));

/** `GET /v1/hives/:id/metrics` query: since when (default: the last hour), and the bucket width (default: none). */
export const MetricsQuery = z.strictObject({
  since: Timestamp.optional(),
  step: MetricsStep.optional(),
});
export type MetricsQuery = z.infer<typeof MetricsQuery>;

/** `[unix seconds, value]`; `null` where the value was unknown or, with a step, no sample fell in the bucket. */
export const MetricsPoint = z.tuple([z.number(), z.number().nullable()]);
export type MetricsPoint = z.infer<typeof MetricsPoint>;

/**
 * A hive's monitor history. Every series has one point per time, and all share the same times: each sample kept,
 * or with `step` every bucket from the first sample's to the last's (its start time, the mean of its samples).
 * `step_s` is 0 when no step was asked for. Series keys are listed in `metric-series.ts`.
 */
export const HiveMetrics = z.object({
  hive_id: Id,
  step_s: NonNegativeInt,
  series: z.record(z.string(), z.array(MetricsPoint)),
});
export type HiveMetrics = z.infer<typeof HiveMetrics>;
