/** The queen's clocks as a registry reads them: injected so tests and the simulation can drive time. */
export interface RegistryClock {
  /** Monotonic ms (`performance.now()` in production): the only clock liveness is judged on. */
  now: () => number;
  /** Wall clock, epoch ms: shown as `last_seen` and used for `clock_offset_ms`. */
  wallNow: () => number;
}

export const systemClock: RegistryClock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
};

/** A heartbeat with the queen's clocks read when it arrived: liveness is judged on receipt, not on application. */
export interface Received<H> {
  heartbeat: H;
  /** `now()` at receipt. */
  at: number;
  /** `wallNow()` at receipt. */
  wall: number;
}

export function received<H>(heartbeat: H, clock: RegistryClock): Received<H> {
  return { heartbeat, at: clock.now(), wall: clock.wallNow() };
}
