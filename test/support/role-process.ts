import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type Role,
  type RoleProcess,
  roleScript,
  type StartRoleOptions,
  startRole as startRoleProcess,
} from '../../services/cluster/role-process.js';
import { descendants } from './process-tree.js';

/** The cluster launcher's role processes, made safe for tests: every one started or tracked is killed by `killAll`. */

export { type Role, type RoleProcess, roleScript } from '../../services/cluster/role-process.js';

/** The directory of the built entry points, with a trailing slash. */
export const DIST_ACTORS = `${path.dirname(roleScript('queen'))}/`;

const running = new Set<number>();

/**
 * Starts `dist/actors/<role>.js` (without the test's own `APIARY_` environment, with a state home of its own) and
 * waits for it to listen. A queen or hive keeps no state unless the test gives `--state-dir`: never the user's own.
 */
const ROLE_START_TIMEOUT_MS = 30_000;

export async function startRole(
  role: Role,
  args: readonly string[],
  options: StartRoleOptions = {},
): Promise<RoleProcess> {
  const stateless = role !== 'worker' && !args.some((arg) => arg.startsWith('--state-dir'));
  const env = options.env ?? { ...withoutApiaryEnv(process.env), XDG_STATE_HOME: temporaryStateHome() };
  const started = await startRoleProcess(role, stateless ? [...args, '--state-dir', 'none'] : args, {
    // Only bounds a role that never starts: on two cores shared with a second suite, a start can take seconds.
    timeoutMs: ROLE_START_TIMEOUT_MS,
    ...options,
    env,
  });
  track(started.pid);
  void started.exited.then(() => running.delete(started.pid));
  return started;
}

const stateHomes = mkdtempSync(path.join(os.tmpdir(), 'apiary-state-'));
process.once('exit', () => rmSync(stateHomes, { recursive: true, force: true }));
let stateHomeCount = 0;

/** A fresh `XDG_STATE_HOME`, so no role a test starts reads or writes the user's own state. */
function temporaryStateHome(): string {
  stateHomeCount += 1;
  return path.join(stateHomes, String(stateHomeCount));
}

/** Remembers a process (e.g. a worker a hive spawned) for `killAll`. */
export function track(pid: number): void {
  running.add(pid);
}

/** SIGKILLs every process started or tracked and still running, and their descendants: for `afterEach`. */
export function killAll(): void {
  // A worker's engine, or a hive's workers, would be left running under PID 1 by their parent's SIGKILL.
  for (const pid of [...running].flatMap((tracked) => [tracked, ...descendants(tracked)])) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  running.clear();
}

/** The environment without any `APIARY_` variable, so the test's own settings never leak into a role. */
export function withoutApiaryEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('APIARY_')));
}

/** Polls `probe` until it returns a value (not undefined), at most `timeoutMs` (generous: only a failure waits it out). */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 15_000,
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
