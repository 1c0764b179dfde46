import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../../contracts/common.js';
import { ErrorBody } from '../../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../../contracts/paths.js';
import { capabilities, monitorData } from '../../fixtures/examples.js';
import { startQueenApp } from '../../support/queen-app.js';
import { hiveBeat, startServedRegistry, workerBeat } from '../../support/queen-registry.js';

describe('queen capacity (--max-hives, --max-workers)', () => {
  it('refuses a hive that would be one too many with 503 and retry-after, changing nothing; known hives keep working', async () => {
    const q = startQueenApp({ capacity: { hives: 2, workers: 10 } });
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
    const answers = await Promise.all([
      q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('a')),
      q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('b')),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 503]);
    expect(q.registry.hives.size).toBe(1);
  });

  it('refuses a worker that would be one too many with 503; a known worker keeps reporting', async () => {
    const q = startQueenApp({ capacity: { hives: 10, workers: 2 } });
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
    await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('old'));
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('new'))).status).toBe(503);
    expect((await q.request('/v1/hives/old', { method: 'DELETE' })).status).toBe(204);
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('new'))).status).toBe(200);
  });
});

describe('capability bytes (one hive, and --max-capability-bytes over all)', () => {
  const fatModels = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => ({
      action: 'added' as const,
      model_id: `fat/${'m'.repeat(200)}-${from + i}`,
      size_gb: 1,
    }));

  it('refuses a delta that would grow a hive past its bound with 413, changing nothing', async () => {
    const q = startQueenApp();
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h1'))).status).toBe(200);
    // Each delta fits in a body; together they would pass the bytes one hive may hold.
    let version = 0;
    let refusal: Response | undefined;
    for (let from = 0; from < 4_000 && refusal === undefined; from += 800) {
      version++;
      const answer = await q.post(
        QUEEN_PATHS.hiveHeartbeat,
        hiveBeat(
          'h1',
          { capability_changes: { models: fatModels(from, 800), workers: [] }, capabilities_version: version },
          true,
        ),
      );
      if (answer.status !== 200) refusal = answer;
    }
    if (!refusal) throw new Error('deltas grew the hive without bound');
    expect(refusal.status).toBe(413);
    expect(ErrorBody.parse(await refusal.json()).error).toMatch(/hive h1 would hold \d+ bytes of capabilities/);
    const held = q.registry.hives.get('h1')?.capabilities;
    expect(held?.bytes).toBeLessThanOrEqual(LIMITS.capabilityBytes);
    expect(held?.toJSON().models.length).toBe(capabilities.models.length + 800 * (version - 1));
    expect(q.registry.hives.get('h1')?.capabilitiesVersion).toBe(version - 1);
  });

  it('takes back whole a set that deltas grew to the bound, in place of the one held, even with the queen full', async () => {
    const q = startQueenApp({ capacity: { hives: 10, workers: 10, capabilityBytes: LIMITS.capabilityBytes + 1_000 } });
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h1', { capabilities_version: 0 }))).status).toBe(200);
    // Grown by deltas up to the bound: fifty models at a time, then one at a time, until the next would not fit.
    let version = 0;
    let from = 0;
    for (const step of [50, 1]) {
      for (;;) {
        const changes = { models: fatModels(from, step), workers: [] };
        const answer = await q.post(
          QUEEN_PATHS.hiveHeartbeat,
          hiveBeat('h1', { capability_changes: changes, capabilities_version: version + 1 }, true),
        );
        if (answer.status !== 200) break;
        version++;
        from += step;
      }
    }
    const held = q.registry.hives.get('h1')?.capabilities;
    if (!held) throw new Error('h1 holds capabilities');
    expect(held.bytes).toBeGreaterThan(LIMITS.capabilityBytes - 250);
    // The hive is asked for its full set (a restart of its own), and sends what it holds, whole.
    const whole = held.toJSON();
    const resync = await q.post(
      QUEEN_PATHS.hiveHeartbeat,
      hiveBeat('h1', { capabilities: whole, capabilities_version: version, boot_id: 'after-restart' }),
    );
    expect(resync.status).toBe(200);
    expect(q.registry.hives.get('h1')?.capabilities?.toJSON()).toEqual(whole);
  });

  it('judges a second heartbeat of a hive in one batch on what the first left: a delta past the bound is refused', async () => {
    const registry = startServedRegistry();
    expect((await registry.submitHive(hiveBeat('h1', { capabilities_version: 1 }))).ok).toBe(true);
    // One event-loop turn: a full set at version 5, then a delta on top of it (a gap against the version 1 held).
    const [full, delta] = await Promise.all([
      registry.submitHive(hiveBeat('h1', { capabilities_version: 5 })),
      registry.submitHive(
        hiveBeat(
          'h1',
          { capability_changes: { models: fatModels(0, 1_000), workers: [] }, capabilities_version: 6 },
          true,
        ),
      ),
    ]);
    expect(full.ok).toBe(true);
    expect(delta).toMatchObject({ ok: false, error: { kind: 'too-large' } });
    expect(registry.hives.get('h1')?.capabilities?.bytes).toBeLessThanOrEqual(LIMITS.capabilityBytes);
    expect(registry.hives.get('h1')?.capabilitiesVersion).toBe(5);
  });

  it('bounds a discovery answer as it bounds a heartbeat: one hive, all hives, and the number of hives', () => {
    const registry = startServedRegistry({ hives: 2, workers: 10, capabilityBytes: 100_000 });
    const answer = (hiveId: string, count: number) => {
      const models = fatModels(0, count).map(({ action: _, ...model }) => model);
      const response = { hive_id: hiveId, monitor_data: monitorData, devices: [], models, workers: [] };
      return registry.discovered({ response, hiveUrl: `http://${hiveId}.lan:7835` });
    };
    expect(answer('too-large', 1_000)).toMatchObject({ ok: false, error: { kind: 'too-large' } });
    expect(answer('a', 300)).toEqual({ ok: true, value: 'taken' });
    expect(answer('b', 300)).toMatchObject({
      ok: false,
      error: { kind: 'capacity', message: expect.stringContaining('--max-capability-bytes') },
    });
    expect(answer('b', 10)).toEqual({ ok: true, value: 'taken' });
    expect(answer('c', 10)).toMatchObject({
      ok: false,
      error: { kind: 'capacity', message: expect.stringContaining('--max-hives') },
    });
    expect([...registry.hives.entries()].map((entry) => entry.id).sort()).toEqual(['a', 'b']);
    // The answer is held as capabilities alone: its monitor data is not counted among them.
    expect(registry.hives.get('b')?.capabilities?.toJSON()).toEqual({
      devices: [],
      models: fatModels(0, 10).map(({ action: _, ...model }) => model),
      workers: [],
    });
  });

  it('refuses capabilities past --max-capability-bytes with 503 and retry-after; forgetting a hive frees its bytes', async () => {
    const q = startQueenApp({ capacity: { hives: 10, workers: 10, capabilityBytes: 200_000 } });
    const fat = (hiveId: string) =>
      hiveBeat(hiveId, {
        capabilities: { devices: [], models: fatModels(0, 400).map(({ action: _, ...m }) => m), workers: [] },
      });
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, fat('a'))).status).toBe(200);
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, fat('b'))).status).toBe(200);
    const before = q.state();
    const refused = await q.post(QUEEN_PATHS.hiveHeartbeat, fat('c'));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(ErrorBody.parse(await refused.json()).error).toContain('--max-capability-bytes');
    expect(q.state()).toBe(before);
    // A hive that keeps its capabilities is not refused.
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('a', {}, true))).status).toBe(200);
    expect((await q.request('/v1/hives/a', { method: 'DELETE' })).status).toBe(204);
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, fat('c'))).status).toBe(200);
  });
});
