import { SimulatedClock } from 'xstate';

/**
 * XState's SimulatedClock that also knows when its next timer is due, so a test can step from timer to timer:
 * a timer fired by a single big jump would see the end time, not its own due time.
 */
export class SteppingClock extends SimulatedClock {
  readonly #due = new Map<number, number>();

  override setTimeout(fn: () => void, timeout: number): number {
    const id = super.setTimeout(() => {
      this.#due.delete(id);
      fn();
    }, timeout);
    this.#due.set(id, this.now() + timeout);
    return id;
  }

  override clearTimeout(id: number): void {
    this.#due.delete(id);
    super.clearTimeout(id);
  }

  /** When the earliest pending timer fires, if any. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const due of this.#due.values()) if (next === undefined || due < next) next = due;
    return next;
  }

  /** Moves to the earliest pending timer and fires it; false when no timer is pending. */
  async advanceToNextTimer(): Promise<boolean> {
    const due = this.nextDue();
    if (due === undefined) return false;
    await this.advanceTo(due);
    return true;
  }

  /** Moves to `time`, stopping at every timer due on the way and letting the promises it starts settle. */
  async advanceTo(time: number): Promise<void> {
    await settle();
    for (let due = this.nextDue(), fired = 0; due !== undefined && due <= time; due = this.nextDue(), fired++) {
      if (fired > 100_000) throw new Error(`timers keep firing at ${this.now()} ms`);
      this.set(Math.max(due, this.now()));
      await settle();
    }
    if (time > this.now()) this.set(time);
    await settle();
  }
}

/** Lets every pending promise callback run (a resolved send and the done event it causes); no time passes. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
