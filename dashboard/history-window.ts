import type { EventPage, HistoryEvent } from '../contracts/events.js';

/** Entries read at once: the newest at first, then each "older" click's. */
export const TIMELINE_PAGE = 50;
/** Entries held at most: past it the oldest give way to new ones, or the newest to older ones read on demand. */
export const TIMELINE_HELD = 500;

/**
 * The part of the queen's history the timeline holds, newest first, within `TIMELINE_HELD` entries, and the cursors
 * to read on from either end. Pages are taken as the history route answers them; a page that does not move its
 * cursor ends the history at that end, so no read loops on it.
 */
export class HistoryWindow {
  /** Newest first. */
  events: readonly HistoryEvent[] = [];
  /** The `before` of the next older page; null once the start of the history is held. */
  olderCursor: number | null = null;
  /** Whether the newest events are held (older pages read past the bound push them out). */
  atTop = true;

  /** The seq after which newer events are read. */
  get newestSeq(): number {
    return this.events[0]?.seq ?? 0;
  }

  clear(): void {
    this.events = [];
    this.olderCursor = null;
    this.atTop = true;
  }

  /** The newest page, read newest first, in place of what is held. */
  takeTop(page: EventPage): void {
    this.events = page.events;
    // Even an empty page may name one: a queen on etcd stops a filtered read after so many events and resumes there.
    this.olderCursor = page.next;
    this.atTop = true;
  }

  /**
   * The page after `newestSeq`, read oldest first, added on top; false when it is not the last (more than a page is
   * new), and the newest page is what to read instead.
   */
  takeNewer(page: EventPage, after: number): boolean {
    if (page.next !== null) return false;
    const newer = page.events.filter((event) => event.seq > after).reverse();
    this.events = [...newer, ...this.events];
    const over = this.events.length - TIMELINE_HELD;
    if (over > 0) {
      this.events = this.events.slice(0, TIMELINE_HELD);
      this.olderCursor = this.events.at(-1)?.seq ?? null;
    }
    return true;
  }

  /** The page before `before`, read newest first, added below. */
  takeOlder(page: EventPage, before: number): void {
    const older = page.events.filter((event) => event.seq < before);
    this.olderCursor = page.next !== null && page.next < before ? page.next : null;
    this.events = [...this.events, ...older];
    const over = this.events.length - TIMELINE_HELD;
    if (over > 0) {
      this.events = this.events.slice(over);
      this.atTop = false;
    }
  }
}
