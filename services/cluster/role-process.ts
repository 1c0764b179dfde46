import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Starting the built roles (`dist/actors/<role>.js`) as real processes, knowing when they listen, and ending them. */

export type Role = 'queen' | 'hive' | 'worker';

export interface RoleExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RoleProcess {
  role: Role;
  child: ChildProcess;
  pid: number;
  /** From the role's `<role> listening` log line. */
  url: string;
  /** Every stderr line so far, parsed when it is JSON. */
  logs: Record<string, unknown>[];
  exited: Promise<RoleExit>;
  /** SIGTERM, then SIGKILL if it is still running after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<RoleExit>;
}

export interface StartRoleOptions {
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the `listening` line. */
  timeoutMs?: number;
  /** Its own process group, so a terminal's Ctrl-C reaches only the launcher, which stops roles in order. */
  detached?: boolean;
  /** Each stderr line as it arrives, e.g. to forward it. */
  onLine?: (line: string) => void;
}

/** The built entry point of `role`: `dist/actors/<role>.js`, also when this module runs from source under vitest. */
export function roleScript(role: Role): string {
  const here = fileURLToPath(new URL('../../', import.meta.url));
  const root = here.endsWith('/dist/') ? here : `${here}dist/`;
  return `${root}actors/${role}.js`;
}

/** Starts `<role>.js` with `args` and waits (bounded) for its `<role> listening` line. */
export async function startRole(
  role: Role,
  args: readonly string[],
  options: StartRoleOptions = {},
): Promise<RoleProcess> {
  const child = spawn(process.execPath, [roleScript(role), ...args], {
    env: options.env ?? process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.detached ?? false,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${role}`);
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<RoleExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${role} did not start within ${options.timeoutMs ?? 10_000} ms: ${lastLines(logs)}`));
    }, options.timeoutMs ?? 10_000);
    let buffered = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        options.onLine?.(line);
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
      reject(new Error(`${role} exited (${code ?? signal}) before listening: ${lastLines(logs)}`));
    });
  });
  const stop = async (timeoutMs = 10_000): Promise<RoleExit> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  };
  return { role, child, pid, url, logs, exited, stop };
}

function lastLines(logs: readonly Record<string, unknown>[]): string {
  return logs
    .slice(-5)
    .map((entry) => JSON.stringify(entry))
    .join('\n');
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
