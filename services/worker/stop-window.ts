/** An engine's stop: SIGTERM, then SIGKILL after this long (vLLM may need seconds to free its GPU memory). */
export const ENGINE_STOP_TIMEOUT_MS = 10_000;

/**
 * How long a worker asked to stop may take before its hive kills it: its engine's stop, then its final heartbeat and
 * its server's close, each up to one request timeout, and a second of slack.
 */
export function workerStopWindowMs(requestTimeoutMs: number): number {
  return ENGINE_STOP_TIMEOUT_MS + 2 * requestTimeoutMs + 1_000;
}
