import { type RegistryClock, systemClock } from '../../machines/registry-clock.js';
import { realTimers, type Timers } from '../timers.js';
import { heldTimers } from './held-timers.js';

/**
 * The queen's one clock, and the one place that knows when the queen itself was not running (GC, a blocked task,
 * SIGSTOP, a suspended VM). A short ticker runs every `tickMs`; whenever it is overdue by more than `toleranceMs`,
 * the excess is a stall and is left out of `now()` — both stalls the ticker saw and the one still going on when
 * `now()` is read, so a sweep that runs before the ticker after a resume already sees the paused clock. After a
 * real pause (at least `holdAfterMs`) comes a hold, as long as the pause (at least `graceMs`, at most `maxHoldMs`):
 * `now()` stands still through it and sweeps due in it wait for its end. Heartbeats already waiting in the sockets
 * are read first, and senders that backed off while the queen was silent get the hold to reach it again without the
 * hold counting against them: every liveness deadline moves by the stall and its hold. Under sustained load (late
 * ticks one after another) the clock still runs: small stalls get no hold, and after a hold the clock runs for at
 * least as long before the next one, so a sender that really died is judged, only later.
 */
export interface QueenClock extends RegistryClock {
  /** The stall time left out of `now()` so far, in ms (its holds not included). */
  readonly stalledMs: number;
  /** `timers` whose callbacks, when due during a stall or in the hold after it, wait until the hold is over. */
  sweepTimers(timers: Timers): Timers;
  stop(): void;
}

export interface QueenClockOptions {
  /** The raw clocks: `performance.now()` and `Date.now()` unless a simulation drives them. */
  base?: RegistryClock;
  /** The ticker's timers, on the same time as `base.now`. */
  timers?: Timers;
  tickMs?: number;
  /** Lateness of a tick still counted as time: ordinary timer jitter under load. */
  toleranceMs?: number;
  /** The shortest hold of sweeps after a stall. */
  graceMs?: number;
  /** The shortest stall followed by a hold: shorter ones (load, a GC pause) are only left out of the clock. */
  holdAfterMs?: number;
  /** The longest: the queen's offline-after, so a sender silenced by the stall is never judged for it. */
  maxHoldMs?: number;
  /** Told each stall as it is left out of the clock. */
  onStall?: (ms: number) => void;
}

export const STALL_TICK_MS = 100;
export const STALL_TOLERANCE_MS = 150;
export const STALL_GRACE_MS = 250;
export const STALL_HOLD_AFTER_MS = 1_000;

export function createQueenClock(options: QueenClockOptions = {}): QueenClock {
  const base = options.base ?? systemClock;
  const timers = options.timers ?? realTimers;
  const tickMs = options.tickMs ?? STALL_TICK_MS;
  const toleranceMs = options.toleranceMs ?? STALL_TOLERANCE_MS;
  const graceMs = options.graceMs ?? STALL_GRACE_MS;
  const holdAfterMs = options.holdAfterMs ?? STALL_HOLD_AFTER_MS;
  const maxHoldMs = Math.max(graceMs, options.maxHoldMs ?? Number.POSITIVE_INFINITY);
  let lastTick = base.now();
  // The clock's reading at `lastTick`; from there it counts only running time outside a hold.
  let reading = lastTick;
  let stalledMs = 0;
  let holdUntil = Number.NEGATIVE_INFINITY;
  // No hold starts before this: the clock runs for at least as long as the last hold lasted.
  let nextHoldAt = Number.NEGATIVE_INFINITY;
  let stopped = false;

  // The part of the time since the last tick beyond its due time and the tolerance.
  const overdue = (raw: number): number => Math.max(0, raw - lastTick - tickMs - toleranceMs);
  // The time since the last tick that the clock counts: neither the part overdue nor the part inside a hold.
  const counted = (raw: number): number => Math.max(0, raw - overdue(raw) - Math.max(lastTick, holdUntil));

  const tick = (): void => {
    if (stopped) return;
    const raw = base.now();
    const stall = overdue(raw);
    reading += counted(raw);
    lastTick = raw;
    if (stall > 0) {
      stalledMs += stall;
      if (stall >= holdAfterMs && raw >= nextHoldAt) {
        const hold = Math.min(Math.max(stall, graceMs), maxHoldMs);
        holdUntil = raw + hold;
        nextHoldAt = holdUntil + hold;
      }
      options.onStall?.(stall);
    }
    ticker = timers.setTimeout(tick, tickMs);
  };
  let ticker: unknown = timers.setTimeout(tick, tickMs);

  // How long a sweep due now must still wait: 0 when the queen is running and past every hold.
  const holdFor = (): number => {
    const raw = base.now();
    return overdue(raw) > 0 ? graceMs : Math.max(0, holdUntil - raw);
  };

  return {
    now: () => reading + counted(base.now()),
    wallNow: () => base.wallNow(),
    get stalledMs() {
      return stalledMs + overdue(base.now());
    },
    sweepTimers: (inner) => heldTimers(inner, holdFor),
    stop() {
      stopped = true;
      timers.clearTimeout(ticker);
    },
  };
}
