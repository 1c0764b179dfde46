import type { EngineEvent, HealthWatchInput } from '../../machines/engine.js';

export interface HealthWatchOptions {
  /** The engine's health URL (`health_path` on its loopback port). */
  url: string;
  /** Poll period while the engine loads: how soon `ready` follows a 200. */
  startingIntervalMs: number;
  /** Poll period while it serves. */
  servingIntervalMs: number;
  /** A check slower than this failed. */
  timeoutMs: number;
  /** Failed checks in a row, while serving, before the engine counts as unhealthy (one slow answer is not a crash). */
  failuresToFail: number;
}

/**
 * The engine machine's health actor: while starting, waits quietly for the first 2xx (a 503 "Loading model" or a
 * refused connection is normal then); while serving, reports the first run of failed checks. Returns its cleanup.
 */
export function watchHealth(
  options: HealthWatchOptions,
  input: HealthWatchInput,
  sendBack: (event: EngineEvent) => void,
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const controller = new AbortController();
  let failures = 0;
  const period = input.phase === 'starting' ? options.startingIntervalMs : options.servingIntervalMs;

  const check = async (): Promise<string | null> => {
    try {
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(options.timeoutMs)]);
      const response = await fetch(options.url, { signal });
      await response.body?.cancel();
      return response.ok ? null : `status ${response.status}`;
    } catch (error) {
      return error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'unreachable';
    }
  };

  const tick = async (): Promise<void> => {
    const failure = await check();
    if (controller.signal.aborted) return;
    if (input.phase === 'starting') {
      if (failure === null) return sendBack({ type: 'ENGINE_HEALTHY' });
    } else if (failure === null) {
      failures = 0;
    } else if (++failures >= options.failuresToFail) {
      return sendBack({ type: 'ENGINE_UNHEALTHY', reason: failure });
    }
    timer = setTimeout(() => void tick(), period);
  };
  timer = setTimeout(() => void tick(), input.phase === 'starting' ? 0 : period);
  return () => {
    controller.abort();
    clearTimeout(timer);
  };
}
