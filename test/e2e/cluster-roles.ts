import type { HiveDirs } from '../support/hive-dirs.js';
import { type RoleProcess, startRole } from '../support/role-process.js';

export { createHiveDirs, type HiveDirs, MODEL_BYTES } from '../support/hive-dirs.js';

/**
 * The roles of the end-to-end tests with short timings, and a hive crash that takes its workers with it (a machine
 * going down). Every hive runs in its own process group so that crash is one signal; `killHiveGroups` is for
 * `afterEach`, beside `killAll`.
 */

export const HEARTBEAT_MS = 250;
export const SUSPECT_MS = 1_000;
export const OFFLINE_MS = 2_000;
/** Between two discovery attempts and two probes of a waiting hive. */
export const RETRY_MS = 300;
/** A queen on a free port (unless `extra` names one) judging liveness on the short timings, discovery off. */
export function queenArgs(extra: readonly string[] = []): string[] {
  return [
    ...['--port', '0', '--heartbeat-interval', `${HEARTBEAT_MS}ms`],
    ...['--suspect-after', `${SUSPECT_MS}ms`, '--offline-after', `${OFFLINE_MS}ms`, '--forget-after', '1m'],
    ...['--stream-interval', '500ms', '--no-discovery', ...extra],
  ];
}

/** A hive on a free port (unless `extra` names one) with the short timings; a later flag wins over these. */
export function hiveArgs(hiveId: string, dirs: HiveDirs, extra: readonly string[] = []): string[] {
  return [
    ...['--port', '0', '--hive-id', hiveId, '--models-dir', dirs.modelsDir, '--workers-dir', dirs.workersDir],
    ...['--state-dir', dirs.stateDir],
    ...['--heartbeat-interval', `${HEARTBEAT_MS}ms`, '--request-timeout', '500ms', '--jitter', '0'],
    ...['--backoff', `0s,${RETRY_MS}ms,${RETRY_MS}ms`, '--probe-interval', `${RETRY_MS}ms`, ...extra],
  ];
}

export function startQueen(extra: readonly string[] = []): Promise<RoleProcess> {
  return startRole('queen', queenArgs(extra));
}

const hiveGroups = new Set<number>();

/** Starts a hive as the leader of its own process group, so its spawned workers share that group. */
export async function startHive(hiveId: string, dirs: HiveDirs, extra: readonly string[] = []): Promise<RoleProcess> {
  const hive = await startRole('hive', hiveArgs(hiveId, dirs, extra), { detached: true });
  hiveGroups.add(hive.pid);
  return hive;
}

/** `kill -9` of the hive and every worker it spawned, as when its machine dies; resolves once the hive is gone. */
export async function crashHive(hive: RoleProcess): Promise<void> {
  killGroup(hive.pid);
  await hive.exited;
}

/** SIGKILLs every hive process group still around: for `afterEach`, with `killAll`. */
export function killHiveGroups(): void {
  for (const pid of hiveGroups) killGroup(pid);
  hiveGroups.clear();
}

function killGroup(leader: number): void {
  try {
    process.kill(-leader, 'SIGKILL');
  } catch {
    // The whole group is gone already.
  }
}
