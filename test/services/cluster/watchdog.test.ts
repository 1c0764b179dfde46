import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isRunning } from '../../support/process-tree.js';
import { DIST_ACTORS, eventually, killAll, track } from '../../support/role-process.js';

afterEach(() => killAll());

/** A process in a group of its own (its pid is the group id) that leaves on SIGTERM. */
function sleeper(): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid ?? 0;
  track(pid);
  return pid;
}

describe('watchdog', () => {
  it('takes down the groups it holds when its parent goes without a word, and none it was told to forget', async () => {
    const script = path.join(DIST_ACTORS, '..', 'services', 'cluster', 'watchdog.js');
    const watchdog = spawn(process.execPath, [script], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<void>((resolve) => watchdog.once('exit', () => resolve()));
    const guarded = sleeper();
    const reused = sleeper();
    // A group whose leader is gone may have its number given to another process: that one must survive.
    watchdog.stdin.end(`group ${guarded}\ngroup ${reused}\nforget ${reused}\n`);

    await eventually(() => (isRunning(guarded) ? undefined : true), 'the held group taken down');
    await exited;
    expect(isRunning(reused)).toBe(true);
  });
});
