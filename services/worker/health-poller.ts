import type { BackendHealth } from '../backend/backend.js';

export type BackendHealthEvent = { type: 'BACKEND_HEALTHY' } | { type: 'BACKEND_UNHEALTHY' };

export interface HealthPollerOptions {
  /** One health check of the backend; resolves, never rejects. */
  check: (signal: AbortSignal) => Promise<BackendHealth>;
  /** Receives the worker-status event of each check. */
  send: (event: BackendHealthEvent) => void;
  /** Period while the backend is not ready (loading, failing). */
  startingIntervalMs?: number;
  /** Period while it is ready. */
  readyIntervalMs?: number;
  /** A check that takes longer counts as `error`. */
  timeoutMs?: number;
}

export interface HealthPoller {
  /** Checks at once, then keeps checking until stopped. */
  start(): void;
  stop(): void;
}

export const HEALTH_POLL_DEFAULTS = { startingIntervalMs: 1_000, readyIntervalMs: 5_000, timeoutMs: 2_000 } as const;

/**
 * Polls the backend and turns each answer into BACKEND_HEALTHY / BACKEND_UNHEALTHY: `starting` stays quiet while
 * the backend has never been ready (it is loading), and counts as unhealthy once it was.
 */
export function createHealthPoller(options: HealthPollerOptions): HealthPoller {
  const startingIntervalMs = options.startingIntervalMs ?? HEALTH_POLL_DEFAULTS.startingIntervalMs;
  const readyIntervalMs = options.readyIntervalMs ?? HEALTH_POLL_DEFAULTS.readyIntervalMs;
  const timeoutMs = options.timeoutMs ?? HEALTH_POLL_DEFAULTS.timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let controller: AbortController | undefined;
  let running = false;
  let everReady = false;

  const checkOnce = async (signal: AbortSignal): Promise<BackendHealth> => {
    let timeout: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<BackendHealth>((resolve) => {
      timeout = setTimeout(() => resolve('error'), timeoutMs);
    });
    try {
      return await Promise.race([options.check(signal).catch((): BackendHealth => 'error'), expired]);
    } finally {
      clearTimeout(timeout);
    }
  };

  const tick = async (): Promise<void> => {
    controller = new AbortController();
    const health = await checkOnce(controller.signal);
    controller.abort();
    if (!running) return;
    if (health === 'ready') {
      everReady = true;
      options.send({ type: 'BACKEND_HEALTHY' });
    } else if (health === 'error' || everReady) {
      options.send({ type: 'BACKEND_UNHEALTHY' });
    }
    timer = setTimeout(() => void tick(), health === 'ready' ? readyIntervalMs : startingIntervalMs);
  };

  return {
    start() {
      if (running) return;
      running = true;
      void tick();
    },
    stop() {
      running = false;
      clearTimeout(timer);
      controller?.abort();
    },
  };
}
