import { afterEach, describe, expect, it } from 'vitest';
import { ErrorBody } from '../../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../../contracts/paths.js';
import { type QueenAppHarness, startQueenApp } from '../../support/queen-app.js';
import { hiveBeat, workerBeat } from '../../support/queen-registry.js';

let queen: QueenAppHarness | undefined;
afterEach(async () => {
  await queen?.close();
  queen = undefined;
});

describe('queen capacity (--max-hives, --max-workers)', () => {
  it('refuses a hive that would be one too many with 503 and retry-after, changing nothing; known hives keep working', async () => {
    const q = startQueenApp({ capacity: { hives: 2, workers: 10 } });
    queen = q;
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h1'))).status).toBe(200);
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h2'))).status).toBe(200);
    const before = q.state();
    const refused = await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h3'));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(ErrorBody.parse(await refused.json()).error).toContain('--max-hives');
    expect(q.state()).toBe(before);
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h1', {}, true))).status).toBe(200);
    expect(await q.metrics.render()).toMatch(/apiary_heartbeats_received_total\{[^}]*result="over_capacity"[^}]*\} 1/);
  });

  it('counts the new hives of one batch against the capacity before they are applied', async () => {
    const q = startQueenApp({ capacity: { hives: 1, workers: 10 } });
    queen = q;
    const answers = await Promise.all([
      q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('a')),
      q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('b')),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 503]);
    expect(q.registry.hives.size).toBe(1);
  });

  it('refuses a worker that would be one too many with 503; a known worker keeps reporting', async () => {
    const q = startQueenApp({ capacity: { hives: 10, workers: 2 } });
    queen = q;
    await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h1'));
    expect((await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h1'))).status).toBe(200);
    expect((await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w2', 'h1'))).status).toBe(200);
    const before = q.state();
    const refused = await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w3', 'h1'));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(q.state()).toBe(before);
    expect((await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h1', { status: 'busy' }))).status).toBe(200);
    expect(q.registry.workers.get('w1')?.heartbeat.status).toBe('busy');
  });

  it('frees a place when an entry is forgotten', async () => {
    const q = startQueenApp({ capacity: { hives: 1, workers: 10 } });
    queen = q;
    await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('old'));
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('new'))).status).toBe(503);
    expect((await q.request('/v1/hives/old', { method: 'DELETE' })).status).toBe(204);
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('new'))).status).toBe(200);
  });
});
