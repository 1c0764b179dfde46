import { HiveHealth, SpawnWorkerResponse } from '../../contracts/hive-api.js';
import { HIVE_PATHS } from '../../contracts/paths.js';
import { authHeaders } from '../support/queen-api.js';
import { track } from '../support/role-process.js';

/** A running hive's HTTP API as the tests use it. */

export async function hiveHealth(hiveUrl: string, token?: string): Promise<HiveHealth> {
  const response = await fetch(`${hiveUrl}${HIVE_PATHS.health}`, { headers: authHeaders(token) });
  return HiveHealth.parse(await response.json());
}

/** `POST /v1/workers` on the hive; the worker's pid is tracked for `killAll`. */
export async function spawnWorker(hiveUrl: string, model: string, token?: string): Promise<SpawnWorkerResponse> {
  const response = await fetch(`${hiveUrl}${HIVE_PATHS.workers}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders(token) },
    body: JSON.stringify({ model }),
  });
  if (response.status !== 201) throw new Error(`spawning a worker: ${response.status} ${await response.text()}`);
  const spawned = SpawnWorkerResponse.parse(await response.json());
  track(spawned.pid);
  return spawned;
}
