export type BusyEvent = { type: 'REQUEST_STARTED' } | { type: 'REQUEST_ENDED' };

export interface BusySignalOptions {
  /** Receives the worker-status event of each edge. */
  send: (event: BusyEvent) => void;
  /** Requests in flight now. */
  inFlight: () => number;
  /** The worker counts as idle once no request was in flight for this long. */
  idleAfterMs?: number;
}

export interface BusySignal {
  /** A request started (already counted in flight). */
  started(): void;
  /** A request ended (no longer counted). */
  ended(): void;
  stop(): void;
}

/** Short enough that `ready` follows the last request at once to anyone watching, long enough to span request gaps. */
export const IDLE_AFTER_MS = 20;

/**
 * Tells the worker-status machine only when the worker turns busy, and when it has been idle a moment: each event is
 * a macrostep of the machine (tens of µs), which per request under load was a large share of the proxy's cost.
 */
export function createBusySignal(options: BusySignalOptions): BusySignal {
  const idleAfterMs = options.idleAfterMs ?? IDLE_AFTER_MS;
  let busy = false;
  let idle: ReturnType<typeof setTimeout> | undefined;
  const settle = (): void => {
    idle = undefined;
    if (!busy || options.inFlight() > 0) return;
    busy = false;
    options.send({ type: 'REQUEST_ENDED' });
  };
  return {
    started() {
      clearTimeout(idle);
      idle = undefined;
      if (busy) return;
      busy = true;
      options.send({ type: 'REQUEST_STARTED' });
    },
    ended() {
      if (options.inFlight() === 0 && idle === undefined) idle = setTimeout(settle, idleAfterMs);
    },
    stop() {
      clearTimeout(idle);
    },
  };
}
