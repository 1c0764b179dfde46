import { type ChildProcess, fork, spawn } from 'node:child_process';
import { z } from 'zod';
import { type Role, type RoleProcess, startRole } from '../../../services/cluster/role-process.js';

/**
 * Every process a benchmark starts, so each is killed when its benchmark ends, and all of them when the run is
 * interrupted or fails.
 */

const live = new Set<ChildProcess>();

/** SIGKILLs every child still running; safe to call from an `exit` handler (synchronous). */
export function killEverything(): void {
  for (const child of live) if (isRunning(child)) child.kill('SIGKILL');
  live.clear();
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** How a helper script tells the bench where it listens (over the IPC channel). */
const Listening = z.object({ url: z.string() });

export interface Started {
  child: ChildProcess;
  pid: number;
}

/** The processes of one benchmark. */
export class ChildGroup {
  private readonly children = new Set<ChildProcess>();

  /** A built role (`dist/actors/<role>.js`), once it logs that it listens. */
  async role(role: Role, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<RoleProcess> {
    const started = await startRole(role, args, { timeoutMs: 15_000, ...(env ? { env } : {}) });
    this.add(started.child);
    return started;
  }

  /** A Node script that sends `{url}` over IPC once it listens. */
  async listening(
    script: string,
    args: readonly string[] = [],
    timeoutMs = 10_000,
  ): Promise<Started & { url: string }> {
    const child = fork(script, [...args], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.add(child);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${script}`);
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not listen within ${timeoutMs} ms`)), timeoutMs);
      child.once('message', (message) => {
        clearTimeout(timer);
        const parsed = Listening.safeParse(message);
        if (parsed.success) resolve(parsed.data.url);
        else reject(new Error(`${script} sent ${JSON.stringify(message)} instead of {url}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (${code ?? signal}) before listening`));
      });
    });
    return { child, pid, url };
  }

  /** Any command, its output discarded. */
  command(file: string, args: readonly string[]): Started {
    const child = spawn(file, args, { stdio: 'ignore' });
    this.add(child);
    if (child.pid === undefined) throw new Error(`could not start ${file}`);
    return { child, pid: child.pid };
  }

  /** SIGKILL, and the exit seen. */
  async kill(child: ChildProcess): Promise<void> {
    if (!isRunning(child)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  async killAll(): Promise<void> {
    await Promise.all([...this.children].map((child) => this.kill(child)));
    this.children.clear();
  }

  private add(child: ChildProcess): void {
    this.children.add(child);
    track(child);
  }
}
