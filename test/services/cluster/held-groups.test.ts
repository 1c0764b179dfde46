import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHeldGroups } from '../../../services/cluster/held-groups.js';

/** The launcher's groups against a process table of its own: which groups have processes left, and what was sent. */

const CHECK_MS = 1_000;

function setUp() {
  /** Processes left in each group. */
  const members = new Map<number, number>();
  const sent: { group: number; signal: NodeJS.Signals | 0 }[] = [];
  const told: string[] = [];
  const groups = createHeldGroups({
    watchdog: { guard: (group) => told.push(`group ${group}`), forget: (group) => told.push(`forget ${group}`) },
    signalGroup: (group, signal) => {
      sent.push({ group, signal });
      return (members.get(group) ?? 0) > 0;
    },
    checkEveryMs: CHECK_MS,
  });
  const signalled = (group: number) => sent.filter((s) => s.group === group && s.signal !== 0).map((s) => s.signal);
  return { members, sent, told, groups, signalled };
}

/** A leader that runs until `exit()`, its group holding `processes` until then. */
function leader(members: Map<number, number>, group: number, processes = 1) {
  members.set(group, processes);
  let exit = (): void => {};
  const exited = new Promise<void>((resolve) => {
    exit = () => {
      members.set(group, (members.get(group) ?? 1) - 1);
      resolve();
    };
  });
  return { exited, exit };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('held process groups', () => {
  it('guards a group, and forgets it once its leader has exited and nothing of it is left: a reused number is never signalled', async () => {
    const { members, told, groups, signalled } = setUp();
    const queen = leader(members, 100);
    groups.hold(100, queen.exited);
    expect(told).toEqual(['group 100']);
    expect(groups.signal(100, 'SIGTERM')).toBe(true);

    queen.exit();
    await vi.advanceTimersByTimeAsync(0);
    expect(told).toEqual(['group 100', 'forget 100']);
    // The number given to an unrelated process leading a group of its own.
    members.set(100, 1);
    expect(groups.signal(100, 'SIGTERM')).toBe(false);
    expect(signalled(100)).toEqual(['SIGTERM']);
  });

  it('holds a group that outlives its leader (a crashed hive, its workers running) until its last process is gone', async () => {
    const { members, told, groups, signalled } = setUp();
    const hive = leader(members, 200, 3);
    groups.hold(200, hive.exited);
    hive.exit();
    await vi.advanceTimersByTimeAsync(5 * CHECK_MS);
    expect(told).toEqual(['group 200']);
    expect(groups.signal(200, 'SIGTERM')).toBe(true);
    expect(signalled(200)).toEqual(['SIGTERM']);

    members.set(200, 0);
    await vi.advanceTimersByTimeAsync(CHECK_MS);
    expect(told).toEqual(['group 200', 'forget 200']);
    expect(groups.signal(200, 'SIGKILL')).toBe(false);
    expect(signalled(200)).toEqual(['SIGTERM']);
  });

  it('never checks or forgets the group of a leader still running, and signals only groups it holds', async () => {
    const { members, sent, told, groups } = setUp();
    const running = leader(members, 300);
    groups.hold(300, running.exited);
    await vi.advanceTimersByTimeAsync(10 * CHECK_MS);
    expect(sent).toEqual([]);
    expect(told).toEqual(['group 300']);
    members.set(400, 1);
    expect(groups.signal(400, 'SIGTERM')).toBe(false);
    expect(sent).toEqual([]);
  });

  it('stops checking once stopped', async () => {
    const { members, sent, groups } = setUp();
    const hive = leader(members, 500, 2);
    groups.hold(500, hive.exited);
    hive.exit();
    await vi.advanceTimersByTimeAsync(0);
    const checks = sent.length;
    expect(checks).toBe(1);
    groups.stop();
    await vi.advanceTimersByTimeAsync(10 * CHECK_MS);
    expect(sent).toHaveLength(checks);
    expect(vi.getTimerCount()).toBe(0);
  });
});
