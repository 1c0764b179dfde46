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

/** One poll of every queen's `/health`: when it started, and the URLs of those that answered `leader`. */
export interface RoleRound {
  at: number;
  leaders: string[];
}

export interface RoleWatch {
  readonly rounds: readonly RoleRound[];
  /** Ends the polling once the round under way is in. */
  stop(): Promise<void>;
}

/** Polls every queen's `/health` every `intervalMs` until stopped; a queen that does not answer leads nobody. */
export function watchRoles(queens: readonly { url: string }[], intervalMs = 100): RoleWatch {
  const rounds: RoleRound[] = [];
  let stopped = false;
  const polling = (async () => {
    while (!stopped) {
      const at = Date.now();
      const healths = await Promise.all(queens.map(healthOf));
      rounds.push({ at, leaders: queens.filter((_, i) => healths[i]?.role === 'leader').map((queen) => queen.url) });
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    rounds,
    stop: async () => {
      stopped = true;
      await polling;
    },
  };
}
