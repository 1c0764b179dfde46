import type { QueenHealth } from '../../contracts/registry.js';
import { QueenApi } from './queen-api.js';
import { eventually } from './role-process.js';

/** Queens in one election, as their `/health` tells it (it needs no token). */

async function healthOf(queen: { url: string }): Promise<QueenHealth | undefined> {
  return new QueenApi(queen.url).health().catch(() => undefined);
}

/** The queens once exactly one of them leads and the others name it: [leader, ...followers]. */
export function settled<Queen extends { url: string }>(queens: readonly Queen[], timeoutMs = 60_000): Promise<Queen[]> {
  return eventually(
    async () => {
      const healths = await Promise.all(queens.map(healthOf));
      const leaders = queens.filter((_, i) => healths[i]?.role === 'leader');
      const [leader] = leaders;
      if (leaders.length !== 1 || !leader) return undefined;
      const agreed = healths.every((health) => health?.leader_url === leader.url);
      return agreed ? [leader, ...queens.filter((queen) => queen !== leader)] : undefined;
    },
    'one leader the other queens name',
    timeoutMs,
  );
}
