import { describe, expect, it } from 'vitest';
import { statsFromMetrics, statsFromSlots } from '../../../services/engine/serving-stats.js';

/** Serving numbers from the engines' own bodies, in the shapes llama-server and vLLM publish. */

const LLAMA_METRICS = `# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 1234
# HELP llamacpp:kv_cache_usage_ratio KV-cache usage. 1 means 100 percent usage.
# TYPE llamacpp:kv_cache_usage_ratio gauge
llamacpp:kv_cache_usage_ratio 0.4375
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 3
# HELP llamacpp:requests_deferred Number of requests deferred.
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred 2
`;

const VLLM_METRICS = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="qwen"} 4.0
vllm:num_requests_running{engine="1",model_name="qwen"} 1.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="qwen"} 7.0
# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{engine="0",model_name="qwen"} 0.62
`;

describe('serving stats', () => {
  it("reads llama-server's /metrics names", () => {
    expect(statsFromMetrics('llama.cpp', LLAMA_METRICS)).toEqual({
      slots_busy: 3,
      queue_depth: 2,
      kv_cache_usage: 0.4375,
    });
  });

  it("reads vLLM's gauges summed over their labels, the older KV-cache name too", () => {
    expect(statsFromMetrics('vllm', VLLM_METRICS)).toEqual({ slots_busy: 5, queue_depth: 7, kv_cache_usage: 0.62 });
    const newer = VLLM_METRICS.replaceAll('gpu_cache_usage_perc', 'kv_cache_usage_perc');
    expect(statsFromMetrics('vllm', newer).kv_cache_usage).toBe(0.62);
  });

  it('leaves out what an engine does not publish, and reads nothing for a generic OpenAI server', () => {
    expect(statsFromMetrics('vllm', LLAMA_METRICS)).toEqual({});
    expect(statsFromMetrics('openai', VLLM_METRICS)).toEqual({});
  });

  it("counts llama-server's /slots, current and older shapes", () => {
    expect(
      statsFromSlots([
        { id: 0, is_processing: true },
        { id: 1, is_processing: false },
      ]),
    ).toEqual({
      slots_total: 2,
      slots_busy: 1,
    });
    expect(
      statsFromSlots([
        { id: 0, state: 1 },
        { id: 1, state: 1 },
        { id: 2, state: 0 },
      ]),
    ).toEqual({
      slots_total: 3,
      slots_busy: 2,
    });
    expect(statsFromSlots({ error: { code: 501, message: 'This server does not support slots endpoint.' } })).toEqual(
      {},
    );
  });
});
