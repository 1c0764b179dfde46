import { QUEEN_PATHS } from '../../../contracts/paths.js';
import { forEachBounded, type HttpClient, postOk } from './http.js';
import { fullHiveHeartbeat, workerHeartbeatOf } from './payloads.js';
import { readHealth } from './queen.js';

/** Registers `size` hives with `workersPerHive` workers each over HTTP, and checks the queen shows them all online. */
export async function registerCluster(
  client: HttpClient,
  size: number,
  workersPerHive: number,
  concurrency: number,
  deadlineMs: number,
): Promise<void> {
  const indices = Array.from({ length: size }, (_, index) => index);
  await forEachBounded(indices, concurrency, deadlineMs, async (index) => {
    await postOk(client, QUEEN_PATHS.hiveHeartbeat, JSON.stringify(fullHiveHeartbeat(index)));
    for (let slot = 0; slot < workersPerHive; slot++) {
      await postOk(client, QUEEN_PATHS.workerHeartbeat, JSON.stringify(workerHeartbeatOf(index, slot)));
    }
  });
  const health = await readHealth(client);
  if (health.hives.online !== size || health.workers.online !== size * workersPerHive) {
    throw new Error(`expected ${size} hives online, the queen has ${JSON.stringify(health)}`);
  }
}
