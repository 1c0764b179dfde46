import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Starting the built roles (`dist/actors/*.js`) as real processes on loopback, and making sure they all end. */

export type Role = 'queen' | 'hive' | 'worker';

export interface RoleProcess {
  role: Role;
  child: ChildProcess;
  pid: number;
  /** From the role's `<role> listening` log line. */
  url: string;
  /** Every stderr line so far, parsed when it is JSON. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const DIST_ACTORS = fileURLToPath(new URL('../../dist/actors/', import.meta.url));

const started = new Set<number>();

/** Starts `dist/actors/<role>.js` with `args` and waits (bounded) for its `<role> listening` line. */
export async function startRole(
  role: Role,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RoleProcess> {
  const child = spawn(process.execPath, [`${DIST_ACTORS}${role}.js`, ...args], {
    env: options.env ?? withoutApiaryEnv(process.env),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${role}`);
  const pid = child.pid;
  track(pid);
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      started.delete(pid);
      resolve({ code, signal });
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${role} did not start: ${JSON.stringify(logs)}`)),
      options.timeoutMs ?? 10_000,
    );
    let buffered = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const entry = parseLine(line);
        logs.push(entry);
        if (entry.msg === `${role} listening` && typeof entry.url === 'string') {
          clearTimeout(timer);
          resolve(entry.url);
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited (${code ?? signal}) before listening: ${JSON.stringify(logs)}`));
    });
  });
  return { role, child, pid, url, logs, exited };
}

/** Remembers a process (e.g. a worker a hive spawned) for `killAll`. */
export function track(pid: number): void {
  started.add(pid);
}

/** SIGKILLs every process started or tracked and still running: for `afterEach`. */
export function killAll(): void {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  started.clear();
}

/** The environment without any `APIARY_` variable, so the test's own settings never leak into a role. */
export function withoutApiaryEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('APIARY_')));
}

function parseLine(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ...value };
  } catch {
    // Not JSON: kept as text.
  }
  return { text: line };
}

/** Polls `probe` until it returns a value (not undefined), at most `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 5_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
