import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebhookAlert } from '../../../contracts/alert.js';
import type { ProblemChange } from '../../../services/alerts/alert-input.js';
import { createProblemTracker, type ProblemTracker } from '../../../services/alerts/problem-tracker.js';

const DEBOUNCE = 30_000;
let sent: WebhookAlert[];
let tracker: ProblemTracker;

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00.000Z') });
  sent = [];
  tracker = createProblemTracker({ debounceMs: DEBOUNCE, onAlert: (alert) => sent.push(alert) });
});

afterEach(() => {
  tracker.stop();
  vi.useRealTimers();
});

function offline(open: boolean, id = 'gpu-a'): ProblemChange {
  return { problem: 'hive_offline', kind: 'hive', id, open, reason: open ? 'missed heartbeats' : 'heartbeat' };
}

describe('createProblemTracker', () => {
  it('sends one open after the debounce and one resolved after it, each stamped with when it happened', async () => {
    tracker.change(offline(true));
    await vi.advanceTimersByTimeAsync(DEBOUNCE - 1);
    expect(sent).toEqual([]);
    tracker.change(offline(true));
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([
      {
        event: 'hive_offline',
        state: 'open',
        kind: 'hive',
        id: 'gpu-a',
        time: '2026-01-01T00:00:00.000Z',
        reason: 'missed heartbeats',
      },
    ]);
    await vi.advanceTimersByTimeAsync(60_000);
    tracker.change(offline(false));
    tracker.change(offline(false));
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    expect(sent.map(({ state, time, reason }) => ({ state, time, reason }))).toEqual([
      { state: 'open', time: '2026-01-01T00:00:00.000Z', reason: 'missed heartbeats' },
      { state: 'resolved', time: '2026-01-01T00:01:30.000Z', reason: 'heartbeat' },
    ]);
    expect(tracker.openCount()).toBe(0);
  });

  it('sends nothing for a problem that opens and resolves within the debounce', async () => {
    for (let flap = 0; flap < 5; flap++) {
      tracker.change(offline(true));
      await vi.advanceTimersByTimeAsync(DEBOUNCE - 1);
      tracker.change(offline(false));
      await vi.advanceTimersByTimeAsync(5_000);
    }
    await vi.advanceTimersByTimeAsync(10 * DEBOUNCE);
    expect(sent).toEqual([]);
  });

  it('keeps an open problem open through a recovery shorter than the debounce', async () => {
    tracker.change(offline(true));
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    tracker.change(offline(false));
    await vi.advanceTimersByTimeAsync(DEBOUNCE - 1);
    tracker.change(offline(true));
    await vi.advanceTimersByTimeAsync(10 * DEBOUNCE);
    expect(sent.map((alert) => alert.state)).toEqual(['open']);
    expect(tracker.openCount()).toBe(1);
  });

  it('tracks each problem and id on its own', async () => {
    tracker.change(offline(true, 'gpu-a'));
    tracker.change(offline(true, 'gpu-b'));
    tracker.change({ problem: 'worker_error', kind: 'worker', id: 'gpu-a', open: true, reason: 'status error' });
    tracker.change(offline(false, 'gpu-b'));
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    expect(sent.map(({ event, id }) => `${event} ${id}`).sort()).toEqual(['hive_offline gpu-a', 'worker_error gpu-a']);
  });

  it('resolves nothing that never opened, and sends nothing once stopped', async () => {
    tracker.change(offline(false));
    tracker.change(offline(true));
    tracker.stop();
    await vi.advanceTimersByTimeAsync(10 * DEBOUNCE);
    tracker.change(offline(true, 'gpu-c'));
    await vi.advanceTimersByTimeAsync(10 * DEBOUNCE);
    expect(sent).toEqual([]);
  });

  it('tells every change of the problems whose open alert went out, and resolves the ones it adopted', async () => {
    const told: string[][] = [];
    const keeper = createProblemTracker({
      debounceMs: DEBOUNCE,
      onAlert: (alert) => sent.push(alert),
      onOpenChange: (open) => told.push(open.map((alert) => alert.id)),
    });
    keeper.change(offline(true, 'gpu-a'));
    expect(keeper.open()).toEqual([]);
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    expect(told).toEqual([['gpu-a']]);
    const [opened] = keeper.open();
    keeper.stop();
    // Its successor takes over what went out, and resolves it when the hive is back.
    const successor = createProblemTracker({ debounceMs: DEBOUNCE, onAlert: (alert) => sent.push(alert) });
    successor.adopt(opened ? [opened] : []);
    expect(successor.open()).toEqual([opened]);
    successor.change(offline(false, 'gpu-a'));
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    expect(sent.at(-1)).toMatchObject({ event: 'hive_offline', state: 'resolved', id: 'gpu-a' });
    expect(successor.open()).toEqual([]);
    successor.stop();
  });
});
