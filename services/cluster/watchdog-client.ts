import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * A parent's side of its watchdog (`watchdog.js`): tells it what to clean up, and when not to. The `npm start` launcher
 * has one for its roles, a worker one for its engines.
 */
export interface Watchdog {
  /** A process started in its own group (its pid is the group id): killed with everything in it. */
  guard(processGroup: number): void;
  /** That group is gone: its number may be given to another process, which must not be killed for it. */
  forget(processGroup: number): void;
  /** Removed should the parent die. */
  removeOnDeath(dir: string): void;
  /** The parent stopped everything itself: the watchdog leaves quietly. */
  release(): void;
}

export function startWatchdog(): Watchdog {
  const script = fileURLToPath(new URL('./watchdog.js', import.meta.url));
  // Its own group and session, so neither a terminal's Ctrl-C nor a group kill of its parent reaches it.
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.unref();
  const stdin = child.stdin;
  stdin?.on('error', () => {});
  const tell = (line: string): void => {
    stdin?.write(`${line}\n`);
  };
  return {
    guard: (group) => tell(`group ${group}`),
    forget: (group) => tell(`forget ${group}`),
    removeOnDeath: (dir) => tell(`dir ${dir}`),
    release() {
      tell('done');
      stdin?.end();
    },
  };
}
