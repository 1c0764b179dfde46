import { QUEEN_PATHS } from '../../../contracts/paths.js';
import { QueenHealth } from '../../../contracts/registry.js';
import type { RoleProcess } from '../../../services/cluster/role-process.js';
import type { ChildGroup } from './children.js';
import type { HttpClient } from './http.js';
import { forgetSecrets } from './payloads.js';

/**
 * A real queen process on a free loopback port at the default log level (it says when it listens), no discovery,
 * keeping no state unless `args` give a `--state-dir`; a new queen forgets the identities the last one issued.
 */
export function startBenchQueen(group: ChildGroup, args: readonly string[] = []): Promise<RoleProcess> {
  forgetSecrets();
  return group.role('queen', ['--host', '127.0.0.1', '--port', '0', '--no-discovery', '--state-dir', 'none', ...args]);
}

export async function readHealth(client: HttpClient): Promise<QueenHealth> {
  const reply = await client.get(QUEEN_PATHS.health);
  if (reply.status !== 200) throw new Error(`GET ${QUEEN_PATHS.health} answered ${reply.status}`);
  return QueenHealth.parse(JSON.parse(reply.body));
}
