import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';

/**
 * One engine process: started without a shell in a process group of its own (the engine's own children included),
 * its last stderr line kept for `last_error`, stopped politely.
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
  onExit: (exit: { code: number | null; signal: string | null; lastLine: string | null }) => void;
}

export interface EngineProcess {
  pid: number | undefined;
  /** SIGTERM, then SIGKILL after the stop timeout; resolves when it has exited. */
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
  const exited = new Promise<void>((resolve) => {
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
  return {
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return exited;
      const signalGroup = (signal: NodeJS.Signals): void => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // The group is gone already.
        }
      };
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), options.stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
