import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { z } from 'zod';
import type { EngineKind } from '../../contracts/engine.js';
import { defined } from '../defined.js';

/** The serving numbers a worker heartbeat carries, as far as its engine reports them. */
export interface ServingStats {
  slots_total?: number;
  slots_busy?: number;
  queue_depth?: number;
  kv_cache_usage?: number;
}

/** llama-server's `GET /slots`: one entry per slot; `is_processing` in current builds, `state` (1 = busy) in older. */
const LlamaSlots = z.array(z.looseObject({ is_processing: z.boolean().optional(), state: z.number().optional() }));

/** The sum of every sample of `name` (vLLM labels its gauges by model); undefined when the engine has none. */
function gauge(families: ReturnType<typeof parsePrometheusTextFormat>, name: string): number | undefined {
  const family = families.find((f) => f.name === name);
  if (!family || family.metrics.length === 0) return undefined;
  const values = family.metrics.map((sample) => Number(sample.value));
  return values.every(Number.isFinite) ? values.reduce((sum, value) => sum + value, 0) : undefined;
}

const ratio = (value: number | undefined): number | undefined =>
  value === undefined ? undefined : Math.min(1, Math.max(0, value));

const count = (value: number | undefined): number | undefined =>
  value === undefined ? undefined : Math.max(0, Math.round(value));

/** Serving numbers from a Prometheus text body, by the engine's metric names. */
export function statsFromMetrics(engine: EngineKind, text: string): ServingStats {
  const families = parsePrometheusTextFormat(text);
  if (engine === 'llama.cpp') {
    return defined({
      slots_busy: count(gauge(families, 'llamacpp:requests_processing')),
      queue_depth: count(gauge(families, 'llamacpp:requests_deferred')),
      kv_cache_usage: ratio(gauge(families, 'llamacpp:kv_cache_usage_ratio')),
    });
  }
  if (engine === 'vllm') {
    return defined({
      slots_busy: count(gauge(families, 'vllm:num_requests_running')),
      queue_depth: count(gauge(families, 'vllm:num_requests_waiting')),
      kv_cache_usage: ratio(
        gauge(families, 'vllm:kv_cache_usage_perc') ?? gauge(families, 'vllm:gpu_cache_usage_perc'),
      ),
    });
  }
  return {};
}

/** Slot counts from llama-server's `/slots` body; empty when it is not that shape. */
export function statsFromSlots(json: unknown): ServingStats {
  const parsed = LlamaSlots.safeParse(json);
  if (!parsed.success) return {};
  const busy = parsed.data.filter((slot) => slot.is_processing ?? slot.state === 1).length;
  return { slots_total: parsed.data.length, slots_busy: busy };
}

export interface ServingStatsReader {
  /** Reads the engine once; what it cannot read stays out. Never rejects. */
  read(signal: AbortSignal): Promise<ServingStats>;
}

/** Reads an engine at `base`: llama.cpp from `/slots` and `/metrics` (slots win for busy), vLLM from `/metrics`. */
export function createServingStatsReader(engine: EngineKind, base: string): ServingStatsReader {
  const text = async (path: string, signal: AbortSignal): Promise<string | null> => {
    try {
      const response = await fetch(`${base}${path}`, { signal });
      if (!response.ok) {
        await response.body?.cancel();
        return null;
      }
      return await response.text();
    } catch {
      return null;
    }
  };
  return {
    async read(signal) {
      if (engine === 'openai') return {};
      const [metrics, slots] = await Promise.all([
        text('/metrics', signal),
        engine === 'llama.cpp' ? text('/slots', signal) : Promise.resolve(null),
      ]);
      let stats: ServingStats = {};
      try {
        if (metrics !== null) stats = statsFromMetrics(engine, metrics);
      } catch {
        // Not Prometheus text: this engine reports no numbers there.
      }
      if (slots !== null) {
        try {
          stats = { ...stats, ...statsFromSlots(JSON.parse(slots)) };
        } catch {
          // Not JSON: no slot numbers.
        }
      }
      return stats;
    },
  };
}
