import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../contracts/events.js';
import { HistoryWindow, TIMELINE_HELD } from '../../dashboard/history-window.js';

const event = (seq: number): HistoryEvent => ({
  seq,
  time: '2026-01-01T00:00:00.000Z',
  kind: 'hive',
  id: `hive-${seq}`,
  type: 'registered',
});

/** Events `from` down to `to`, newest first, as a newest-first page gives them. */
const down = (from: number, to: number): HistoryEvent[] =>
  Array.from({ length: from - to + 1 }, (_, index) => event(from - index));

const seqs = (held: HistoryWindow): number[] => held.events.map((e) => e.seq);

describe('the timeline’s window on the history', () => {
  it('holds the newest page, adds newer ones on top and older ones below, within its bound', () => {
    const held = new HistoryWindow();
    held.takeTop({ events: down(100, 51), next: 51 });
    expect([held.newestSeq, held.olderCursor, held.atTop]).toEqual([100, 51, true]);
    expect(held.takeNewer({ events: [event(101), event(102)], next: null }, 100)).toBe(true);
    expect(seqs(held).slice(0, 3)).toEqual([102, 101, 100]);
    held.takeOlder({ events: down(50, 1), next: null }, 51);
    expect(seqs(held)).toEqual(down(102, 1).map((e) => e.seq));
    expect(held.olderCursor).toBeNull();
  });

  it('gives the oldest way to new events past the bound, and the newest way to older ones', () => {
    const held = new HistoryWindow();
    held.takeTop({ events: down(TIMELINE_HELD + 1000, 1001), next: 1001 });
    held.takeNewer({ events: [event(TIMELINE_HELD + 1001)], next: null }, TIMELINE_HELD + 1000);
    expect(held.events).toHaveLength(TIMELINE_HELD);
    expect(held.olderCursor).toBe(1002);
    held.takeOlder({ events: down(1001, 952), next: 952 }, 1002);
    expect(held.events).toHaveLength(TIMELINE_HELD);
    expect([held.atTop, held.olderCursor, held.events.at(-1)?.seq]).toEqual([false, 952, 952]);
  });

  it('ends the history at a page that moves no cursor, and leaves a page with more new events to a top read', () => {
    const held = new HistoryWindow();
    held.takeTop({ events: [], next: null });
    expect(held.olderCursor).toBeNull();
    held.takeTop({ events: down(10, 9), next: 9 });
    held.takeOlder({ events: [event(12)], next: 12 }, 9);
    expect([seqs(held), held.olderCursor]).toEqual([[10, 9], null]);
    expect(held.takeNewer({ events: [event(11)], next: 11 }, 10)).toBe(false);
    expect(seqs(held)).toEqual([10, 9]);
  });

  it('reads on past pages a filtered read cut short, empty ones included, as long as their cursor moves', () => {
    const held = new HistoryWindow();
    held.takeTop({ events: [], next: 900 });
    expect([seqs(held), held.olderCursor]).toEqual([[], 900]);
    held.takeOlder({ events: [], next: 800 }, 900);
    expect(held.olderCursor).toBe(800);
    held.takeOlder({ events: [event(750)], next: 700 }, 800);
    expect([seqs(held), held.olderCursor]).toEqual([[750], 700]);
    held.takeOlder({ events: [], next: null }, 700);
    expect(held.olderCursor).toBeNull();
  });
});
