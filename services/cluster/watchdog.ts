import { rmSync } from 'node:fs';
import readline from 'node:readline';
import { signalGroup } from './process-group.js';

/**
 * A watchdog, a process of its own: it reads `group <pgid>`, `forget <pgid>` (that group is gone) and `dir <path>`
 * lines from its parent (the launcher, or a worker for its engines) on stdin. When stdin closes without a `done` line
 * first (the parent was killed, even by SIGKILL), it takes every process group it still holds down (SIGTERM, SIGKILL a
 * few seconds later) and removes the directories, so nothing outlives it.
 */

const KILL_AFTER_MS = 3_000;

const groups = new Set<number>();
const dirs = new Set<string>();
let done = false;

function signalGroups(signal: NodeJS.Signals): void {
  for (const group of groups) signalGroup(group, signal);
}

readline
  .createInterface({ input: process.stdin })
  .on('line', (line) => {
    const [word, value = ''] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    if (line === 'done') done = true;
    else if (word === 'group' && /^\d+$/.test(value)) groups.add(Number(value));
    else if (word === 'forget' && /^\d+$/.test(value)) groups.delete(Number(value));
    else if (word === 'dir' && value !== '') dirs.add(value);
  })
  .on('close', () => {
    if (done) process.exit(0);
    signalGroups('SIGTERM');
    setTimeout(() => {
      signalGroups('SIGKILL');
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }, KILL_AFTER_MS);
  });
