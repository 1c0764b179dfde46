import type { SendOutcome } from '../machines/send-outcome.js';

/** How a sender numbers its heartbeats: `seq` from 0 under a random `boot_id`, one per process. */
export interface HeartbeatNumbering {
  /** The numbers of the next heartbeat built. */
  next(): { boot_id: string; seq: number };
  /** The `boot_id` numbered under now. */
  bootId(): string;
  /**
   * After a send. A 409 to the heartbeat being sent cannot be about its age (each is numbered anew): the queen holds a
   * later `seq` under this `boot_id` than was ever sent (forged), or the process for gone. A new `boot_id` makes the
   * next heartbeat count.
   */
  sent(outcome: SendOutcome): void;
}

export function createNumbering(newBootId: () => string): HeartbeatNumbering {
  let bootId = newBootId();
  let built = 0;
  return {
    next: () => ({ boot_id: bootId, seq: built++ }),
    bootId: () => bootId,
    sent(outcome) {
      if (outcome.ok || outcome.error.kind !== 'http' || outcome.error.status !== 409) return;
      bootId = newBootId();
      built = 0;
    },
  };
}
