import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';
import { signalGroup } from '../cluster/process-group.js';

/**
 * One engine process: started without a shell in a process group of its own (the engine's own children included),
 * its last stderr line kept for `last_error`, stopped politely. The group outlives its leader when a child does: the
 * rest of it is taken down after the grace, whether the leader was stopped or died, and only then forgotten.
 */

export interface EngineProcessOptions {
  /** Program and arguments, placeholders already filled. */
  command: readonly string[];
  /** Added to the worker's own environment. */
  env: Readonly<Record<string, string>>;
  /** SIGTERM, then SIGKILL after this long. */
  stopTimeoutMs: number;
  /** Told the engine's process group once it runs, so that it is taken down should the worker die unannounced. */
  guard: (processGroup: number) => void;
  /** Told once that group is gone, so that a later process given its number is never taken for it. */
  forget: (processGroup: number) => void;
  onExit: (exit: { code: number | null; signal: string | null; lastLine: string | null }) => void;
}

export interface EngineProcess {
  pid: number | undefined;
  /** SIGTERM to the group, then SIGKILL after the stop timeout; resolves when no process of the group is left. */
  stop(): Promise<void>;
}

export function startEngineProcess(options: EngineProcessOptions): EngineProcess {
  const [program = '', ...args] = options.command;
  const child: ChildProcess = spawn(program, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  if (child.pid !== undefined) options.guard(child.pid);
  let lastLine: string | null = null;
  if (child.stderr) {
    readline.createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.trim() !== '') lastLine = line.slice(0, 500);
    });
  }
  let spawnError: string | null = null;
  const leaderExited = new Promise<void>((resolve) => {
    let reported = false;
    const report = (code: number | null, signal: string | null): void => {
      if (reported) return;
      reported = true;
      resolve();
      options.onExit({ code, signal, lastLine: spawnError ?? lastLine });
    };
    child.once('error', (error) => {
      spawnError = error.message;
      if (child.pid === undefined) report(null, null);
    });
    child.once('exit', (code, signal) => report(code, signal));
  });

  const group = child.pid;
  const signalEngine = (signal: NodeJS.Signals | 0): boolean => group !== undefined && signalGroup(group, signal);
  /** When the group's SIGKILL is due: the stop's start plus the grace, once stopping. */
  let killAt: number | null = null;
  const gone = leaderExited.then(
    () =>
      new Promise<void>((resolve) => {
        if (group === undefined) return resolve();
        const forget = (): void => {
          options.forget(group);
          resolve();
        };
        if (!signalEngine(0)) return forget();
        // A child that ignores SIGTERM, or outlives a crashed leader, still holds the GPU and the port.
        signalEngine('SIGTERM');
        killAt ??= Date.now() + options.stopTimeoutMs;
        setTimeout(
          () => {
            signalEngine('SIGKILL');
            forget();
          },
          Math.max(0, killAt - Date.now()),
        );
      }),
  );
  return {
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || group === undefined) return gone;
      killAt ??= Date.now() + options.stopTimeoutMs;
      signalEngine('SIGTERM');
      const timer = setTimeout(() => signalEngine('SIGKILL'), options.stopTimeoutMs);
      await gone;
      clearTimeout(timer);
    },
  };
}
