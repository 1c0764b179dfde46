import { describe, expect, it } from 'vitest';
import type { QueenRole } from '../../../../contracts/election.js';
import { HeartbeatAck, LeaderRedirect } from '../../../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../../../contracts/paths.js';
import { QueenHealth } from '../../../../contracts/registry.js';
import type { Leadership, Route } from '../../../../services/ha/leadership.js';
import { discoveryHeartbeat, workerHeartbeat } from '../../../fixtures/examples.js';
import { type QueenAppHarness, startQueenApp } from '../../../support/queen-app.js';

/** A queen in an election: a follower sends heartbeats and DELETEs on to the leader (its reads: leader-read.test). */

const LEADER = 'http://queen-b.test:7833';

const HEARTBEATS = [
  [QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat],
  [QUEEN_PATHS.workerHeartbeat, workerHeartbeat],
] as const;

/** A queen whose role, known leader and route the test sets: a follower sends on to the leader it knows. */
function queenIn(role: QueenRole, leaderUrl: string | null, route?: Route): QueenAppHarness {
  const leadership: Leadership = {
    role: () => role,
    leaderUrl: () => leaderUrl,
    route: () => route ?? (role === 'leader' || leaderUrl === null ? { to: 'self' } : { to: 'leader', url: leaderUrl }),
  };
  return startQueenApp({ leadership });
}

describe('leader redirect', () => {
  it('a follower answers both heartbeats with 307 to the leader, location and leader_url, and changes nothing', async () => {
    const q = queenIn('follower', LEADER);
    const before = q.state();
    for (const [path, body] of HEARTBEATS) {
      const response = await q.post(path, body);
      expect(response.status).toBe(307);
      expect(response.headers.get('location')).toBe(`${LEADER}${path}`);
      expect(LeaderRedirect.parse(await response.json())).toEqual({ leader_url: LEADER });
    }
    expect(q.state()).toBe(before);
    const metrics = await (await q.request(QUEEN_PATHS.metrics)).text();
    expect(metrics).toContain('apiary_heartbeats_received_total{kind="hive",result="redirected"} 1');
  });

  it('a follower sends a DELETE on to the leader: only the leader changes the state', async () => {
    const q = queenIn('follower', LEADER);
    for (const path of ['/v1/hives/gpu-a', '/v1/workers/w-1']) {
      const response = await q.request(path, { method: 'DELETE' });
      expect(response.status).toBe(307);
      expect(response.headers.get('location')).toBe(`${LEADER}${path}`);
    }
  });

  it('with nobody able to take them (a new leader loading the state), heartbeats get 503 and retry-after', async () => {
    const q = queenIn('leader', 'http://queen-a.test:7833', { to: 'none', why: 'loading the state' });
    const before = q.state();
    for (const [path, body] of HEARTBEATS) {
      const response = await q.post(path, body);
      expect(response.status).toBe(503);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await response.json()).toMatchObject({ error: expect.stringContaining('loading the state') });
    }
    expect((await q.request('/v1/hives/gpu-a', { method: 'DELETE' })).status).toBe(503);
    expect(q.state()).toBe(before);
  });

  it('checks the token before redirecting', async () => {
    const q = queenIn('follower', LEADER);
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat, { token: null })).status).toBe(401);
  });

  it('a follower answers health itself, with its role and the leader', async () => {
    const q = queenIn('follower', LEADER);
    const health = QueenHealth.parse(await (await q.request(QUEEN_PATHS.health, { token: null })).json());
    expect(health).toMatchObject({ role: 'follower', leader_url: LEADER });
  });

  it('the leader that has loaded the state takes heartbeats itself', async () => {
    const leader = 'http://queen-a.test:7833';
    const q = queenIn('leader', leader);
    expect(HeartbeatAck.parse(await (await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat)).json())).toEqual(
      expect.objectContaining({ status: 'ok' }),
    );
    const health = QueenHealth.parse(await (await q.request(QUEEN_PATHS.health)).json());
    expect(health).toMatchObject({ role: 'leader', leader_url: leader });
  });

  it('a queen without an election shows no role', async () => {
    const q = startQueenApp();
    const health = QueenHealth.parse(await (await q.request(QUEEN_PATHS.health)).json());
    expect(health.role).toBeUndefined();
    expect(health.leader_url).toBeUndefined();
  });
});
