/**
 * When a queue's pending writes go out: one flush `flushMs` after the first change since the last flush began, on a
 * timer that never keeps the process alive.
 */
export interface WriteBehind {
  /** A change is pending: a flush follows within `flushMs`. */
  changed(): void;
  /** A flush began (timed or asked for): the next change waits anew. */
  flushing(): void;
}

export function writeBehind(flush: () => Promise<void>, flushMs: number): WriteBehind {
  let timer: NodeJS.Timeout | undefined;
  return {
    changed() {
      if (timer !== undefined) return;
      timer = setTimeout(() => void flush(), flushMs);
      timer.unref();
    },
    flushing() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
