import { describe, expect, it } from 'vitest';
import { type Fate, LivenessTable, orderedLiveness, sweepPeriodMs, type Tracked } from '../../machines/liveness.js';

const SETTINGS = { suspectAfterMs: 100, offlineAfterMs: 200, forgetAfterMs: 300 };

function entry(id: string): Tracked {
  return { id, liveness: 'offline', seenAt: null, since: null };
}

describe('liveness table', () => {
  it('sweeps only the entries whose silence crossed a threshold, oldest first', () => {
    const table = new LivenessTable<Tracked>();
    const [a, b, c] = [entry('a'), entry('b'), entry('c')];
    table.seen(a, 0);
    table.seen(b, 10);
    table.seen(c, 20);
    // A re-beat moves `a` behind the others: the oldest is now `b`.
    table.seen(a, 30);
    const seen: string[] = [];
    const sink = (e: Tracked, from: string, to: Fate) => seen.push(`${e.id}:${from}→${to}`);
    table.sweep(115, SETTINGS, sink);
    expect(seen).toEqual(['b:online→suspect']);
    table.sweep(130, SETTINGS, sink);
    expect(seen).toEqual(['b:online→suspect', 'c:online→suspect', 'a:online→suspect']);
    expect([table.count('online'), table.count('suspect'), table.count('offline')]).toEqual([0, 3, 0]);
    table.sweep(320, SETTINGS, sink);
    expect(seen.slice(3)).toEqual([
      'b:suspect→offline',
      'c:suspect→offline',
      'a:suspect→offline',
      'b:offline→forgotten',
      'c:offline→forgotten',
    ]);
    expect(table.size).toBe(1);
  });

  it('retains entries it is told to keep past forget-after, offline', () => {
    const table = new LivenessTable<Tracked>((e) => e.id === 'kept');
    table.seen(entry('kept'), 0);
    table.seen(entry('gone'), 0);
    table.sweep(1_000, SETTINGS, () => {});
    expect(table.get('kept')?.liveness).toBe('offline');
    expect(table.get('gone')).toBeUndefined();
  });

  it('takes an entry offline at once and reports nothing when it already was', () => {
    const table = new LivenessTable<Tracked>();
    const a = entry('a');
    table.seen(a, 0);
    expect(table.setOffline(a)).toBe('online');
    expect(table.setOffline(a)).toBeNull();
    expect(table.count('offline')).toBe(1);
  });

  it('orders the thresholds and sweeps at most every second, ten times per suspect-after', () => {
    expect(orderedLiveness({ suspectAfterMs: 50, offlineAfterMs: 20, forgetAfterMs: 10 })).toEqual({
      suspectAfterMs: 50,
      offlineAfterMs: 50,
      forgetAfterMs: 50,
    });
    expect(sweepPeriodMs({ suspectAfterMs: 45_000, offlineAfterMs: 90_000, forgetAfterMs: 600_000 })).toBe(200);
    expect(sweepPeriodMs(SETTINGS)).toBe(5);
    expect(sweepPeriodMs({ suspectAfterMs: 5, offlineAfterMs: 5, forgetAfterMs: 5 })).toBe(1);
  });
});
