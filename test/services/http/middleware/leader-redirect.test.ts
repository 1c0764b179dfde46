import { afterEach, describe, expect, it } from 'vitest';
import type { QueenRole } from '../../../../contracts/election.js';
import { HeartbeatAck, LeaderRedirect } from '../../../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../../../contracts/paths.js';
import { HiveList, QueenHealth } from '../../../../contracts/registry.js';
import type { Leadership } from '../../../../services/ha/leadership.js';
import { discoveryHeartbeat, workerHeartbeat } from '../../../fixtures/examples.js';
import { type QueenAppHarness, startQueenApp } from '../../../support/queen-app.js';

/** A queen in an election: a follower sends heartbeats on to the leader and serves everything else itself. */

const LEADER = 'http://queen-b.test:7833';

let queen: QueenAppHarness | undefined;
afterEach(() => {
  queen?.close();
  queen = undefined;
});

/** A queen whose role and known leader the test sets. */
function queenIn(role: QueenRole, leaderUrl: string | null): QueenAppHarness {
  const leadership: Leadership = {
    role: () => role,
    leaderUrl: () => leaderUrl,
    redirectTo: () => (role === 'leader' ? null : leaderUrl),
  };
  queen = startQueenApp({ leadership });
  return queen;
}

describe('leader redirect', () => {
  it('a follower answers both heartbeats with 307 to the leader, location and leader_url, and changes nothing', async () => {
    const q = queenIn('follower', LEADER);
    const before = q.state();
    for (const [path, body] of [
      [QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat],
      [QUEEN_PATHS.workerHeartbeat, workerHeartbeat],
    ] as const) {
      const response = await q.post(path, body);
      expect(response.status).toBe(307);
      expect(response.headers.get('location')).toBe(`${LEADER}${path}`);
      expect(LeaderRedirect.parse(await response.json())).toEqual({ leader_url: LEADER });
    }
    expect(q.state()).toBe(before);
    const metrics = await (await q.request(QUEEN_PATHS.metrics)).text();
    expect(metrics).toContain('apiary_heartbeats_received_total{kind="hive",result="redirected"} 1');
  });

  it('checks the token before redirecting', async () => {
    const q = queenIn('follower', LEADER);
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat, { token: null })).status).toBe(401);
  });

  it('a follower still serves views and health, with its role and the leader', async () => {
    const q = queenIn('follower', LEADER);
    expect(HiveList.parse(await (await q.request(QUEEN_PATHS.hives)).json()).hives).toEqual([]);
    const health = QueenHealth.parse(await (await q.request(QUEEN_PATHS.health, { token: null })).json());
    expect(health).toMatchObject({ role: 'follower', leader_url: LEADER });
  });

  it('the leader, and a candidate that knows no leader, take heartbeats themselves', async () => {
    for (const [role, leader] of [
      ['leader', 'http://queen-a.test:7833'],
      ['candidate', null],
    ] as const) {
      const q = queenIn(role, leader);
      expect(HeartbeatAck.parse(await (await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat)).json())).toEqual(
        expect.objectContaining({ status: 'ok' }),
      );
      const health = QueenHealth.parse(await (await q.request(QUEEN_PATHS.health)).json());
      expect(health).toMatchObject({ role, leader_url: leader });
      q.close();
    }
  });

  it('a queen without an election shows no role', async () => {
    queen = startQueenApp();
    const health = QueenHealth.parse(await (await queen.request(QUEEN_PATHS.health)).json());
    expect(health.role).toBeUndefined();
    expect(health.leader_url).toBeUndefined();
  });
});
