import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The launcher's side of its watchdog (`watchdog.js`): tells it what to clean up, and when not to. */
export interface Watchdog {
  /** A role started in its own process group (its pid is the group id): killed with everything in it. */
  guard(processGroup: number): void;
  /** Removed should the launcher die. */
  removeOnDeath(dir: string): void;
  /** The launcher stopped everything itself: the watchdog leaves quietly. */
  release(): void;
}

export function startWatchdog(): Watchdog {
  const script = fileURLToPath(new URL('./watchdog.js', import.meta.url));
  // Its own group and session, so neither a terminal's Ctrl-C nor a group kill of the launcher reaches it.
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.unref();
  const stdin = child.stdin;
  stdin?.on('error', () => {});
  const tell = (line: string): void => {
    stdin?.write(`${line}\n`);
  };
  return {
    guard: (group) => tell(`group ${group}`),
    removeOnDeath: (dir) => tell(`dir ${dir}`),
    release() {
      tell('done');
      stdin?.end();
    },
  };
}
