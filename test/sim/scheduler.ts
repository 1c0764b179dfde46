import type { Timers } from '../../services/timers.js';

/**
 * The simulation's one clock: a discrete-event scheduler that is XState's timer source for every actor (the hives'
 * lifecycles, the queen's registries) and the network's. Time only moves in `runUntil`, from event to event; after
 * each event every promise it started settles before the next one fires, so an answer that arrives at `t` is
 * handled at `t`. Events due at the same time fire in the order they were scheduled.
 *
 * XState's SimulatedClock sorts every pending timer on each step (and SteppingClock scans them to find the next); with
 * hundreds of timers pending and ~80 000 steps per simulated hour of 200 hives, a binary heap keeps a step O(log n).
 */
export class Scheduler implements Timers {
  #now = 0;
  #seq = 0;
  readonly #heap: Timer[] = [];
  readonly #live = new Map<number, Timer>();
  #fired = 0;

  now(): number {
    return this.#now;
  }

  /** Events fired so far: the size of a run. */
  get fired(): number {
    return this.#fired;
  }

  setTimeout(fn: () => void, timeout: number): number {
    const timer: Timer = { due: this.#now + Math.max(0, timeout), seq: this.#seq++, fn };
    this.#live.set(timer.seq, timer);
    push(this.#heap, timer);
    return timer.seq;
  }

  clearTimeout(id: number): void {
    // Left in the heap and skipped when it comes up: removal from the middle of a heap is not worth it.
    this.#live.delete(id);
  }

  /** Schedules `fn` at the absolute simulated time `at` (not before now). */
  at(time: number, fn: () => void): number {
    return this.setTimeout(fn, time - this.#now);
  }

  /** Fires every event due up to `time` in order, letting each one's promises settle, then stands at `time`. */
  async runUntil(time: number): Promise<void> {
    await settle();
    for (let next = this.#heap[0]; next !== undefined && next.due <= time; next = this.#heap[0]) {
      pop(this.#heap);
      if (!this.#live.delete(next.seq)) continue;
      this.#now = Math.max(this.#now, next.due);
      this.#fired++;
      next.fn();
      await settle();
    }
    this.#now = Math.max(this.#now, time);
  }
}

interface Timer {
  due: number;
  seq: number;
  fn: () => void;
}

/** Lets every pending promise callback run; the queen's and the senders' handling is promise-only, no I/O. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const before = (a: Timer, b: Timer): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq);

function push(heap: Timer[], timer: Timer): void {
  heap.push(timer);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const above = heap[parent];
    if (above === undefined || !before(timer, above)) break;
    heap[i] = above;
    i = parent;
  }
  heap[i] = timer;
}

function pop(heap: Timer[]): void {
  const last = heap.pop();
  if (last === undefined || heap.length === 0) return;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let smallest = last;
    let at = -1;
    const l = heap[left];
    if (l !== undefined && before(l, smallest)) {
      smallest = l;
      at = left;
    }
    const r = heap[right];
    if (r !== undefined && before(r, smallest)) {
      smallest = r;
      at = right;
    }
    if (at < 0) break;
    heap[i] = smallest;
    i = at;
  }
  heap[i] = last;
}
