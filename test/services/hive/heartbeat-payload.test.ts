import { describe, expect, it } from 'vitest';
import type { Capabilities, CapabilityChanges } from '../../../contracts/capabilities.js';
import { HiveHeartbeat, type MonitorData } from '../../../contracts/heartbeat.js';
import type { SendRequest } from '../../../machines/lifecycle.js';
import type { SendOutcome } from '../../../machines/send-outcome.js';
import { createNumbering } from '../../../services/heartbeat-numbering.js';
import { type CapabilitySource, createHivePayload } from '../../../services/hive/heartbeat-payload.js';
import { loadHiveIdentity } from '../../../services/hive/identity.js';
import { silentLogger } from '../../../services/logger.js';
import type { HiveVerdict } from '../../../services/queen/registry.js';
import { MemoryCapabilities } from '../../sim/hive.js';
import { startQueenRegistry } from '../../support/queen-registry.js';

const MONITOR: MonitorData = {
  cpu_usage_percent: 12.5,
  ram_used_gb: 3,
  ram_total_gb: 16,
  uptime_seconds: 100,
  devices: [],
  collected_at: '2025-10-30T14:52:00.000Z',
};
const CAPABILITIES: Capabilities = {
  devices: [{ id: 'CPU-0', name: 'Test CPU', device_type: 'cpu' }],
  models: [{ model_id: 'tiny', size_gb: 0.5 }],
  workers: [{ worker_type: 'cpu', version: '0.1.0' }],
};
const CHANGES: CapabilityChanges = { models: [{ action: 'added', model_id: 'big', size_gb: 7 }], workers: [] };
const OK: SendOutcome = { ok: true, value: { status: 'ok', queen_epoch: 'e1', resync: false } };
const FAILED: SendOutcome = { ok: false, error: { kind: 'refused', message: 'refused' } };

function tracker(
  pending: CapabilityChanges | null,
  version = 3,
  unacknowledged = pending ? 1 : 0,
): CapabilitySource & { acknowledged: number[] } {
  const acknowledged: number[] = [];
  return {
    acknowledged,
    current: () => CAPABILITIES,
    version: () => version,
    pending: () => pending,
    acknowledge: (v) => acknowledged.push(v),
    unacknowledged: () => unacknowledged,
  };
}

function request(reason: SendRequest['reason'], full: boolean): SendRequest {
  return { queenUrl: 'http://queen.test:7833', reason, full };
}

function payloadWith(
  source: CapabilitySource,
  identity = loadHiveIdentity(null, 'hive-a', silentLogger),
  numbering = createNumbering(() => 'boot-1'),
) {
  return createHivePayload({
    hiveId: 'hive-a',
    numbering,
    hiveUrl: 'http://10.0.0.5:7835',
    monitor: { latest: () => MONITOR },
    capabilities: source,
    identity,
    now: () => new Date('2025-10-30T14:52:01.000Z'),
  });
}

/** What the hive's send sees of a queen's verdict: its ack, or `refused`. */
function answerOf(verdict: HiveVerdict, refused: SendOutcome): SendOutcome {
  if (!verdict.ok) return refused;
  const { resync, secret } = verdict.value;
  const ack = { status: 'ok', queen_epoch: 'e1', resync: resync !== null } as const;
  return { ok: true, value: secret === null ? ack : { ...ack, hive_secret: secret } };
}

describe('hive heartbeat payload', () => {
  it('carries the full capabilities when the lifecycle asks for them, and never the changes then', () => {
    const heartbeat = payloadWith(tracker(CHANGES)).build(request('discovery', true));
    expect(HiveHeartbeat.parse(heartbeat)).toEqual({
      hive_id: 'hive-a',
      timestamp: '2025-10-30T14:52:01.000Z',
      monitor_data: MONITOR,
      capabilities: CAPABILITIES,
      capabilities_version: 3,
      boot_id: 'boot-1',
      seq: 0,
      hive_url: 'http://10.0.0.5:7835',
      status: 'ready',
    });
  });

  it('carries the pending changes in a normal heartbeat, and neither field when nothing changed', () => {
    const withChanges = payloadWith(tracker(CHANGES)).build(request('sync', false));
    expect(withChanges.capability_changes).toEqual(CHANGES);
    expect(withChanges.capabilities).toBeUndefined();
    const quiet = payloadWith(tracker(null)).build(request('heartbeat', false));
    expect(quiet).not.toHaveProperty('capability_changes');
    expect(quiet).not.toHaveProperty('capabilities');
    expect(quiet.capabilities_version).toBe(3);
  });

  it('sends the whole set, not changes, while more than one version waits for its acknowledgement', () => {
    const twoPending = payloadWith(tracker(CHANGES, 3, 2)).build(request('sync', false));
    expect(twoPending.capabilities).toEqual(CAPABILITIES);
    expect(twoPending).not.toHaveProperty('capability_changes');
    expect(twoPending.capabilities_version).toBe(3);
  });

  it("leaves the queen's set equal to the hive's after a lost answer and a second change", () => {
    const queen = startQueenRegistry().registry;
    const tracked = new MemoryCapabilities(CAPABILITIES);
    const payload = payloadWith(tracked);
    const send = (full: boolean, answered: boolean): void => {
      const heartbeat = payload.build(request(full ? 'discovery' : 'sync', full));
      const verdict = queen.receiveHive(heartbeat);
      if (answered) payload.sent(heartbeat, answerOf(verdict, FAILED), request('sync', false));
    };
    send(true, true);
    // A model added: the queen takes the change, its answer is lost.
    tracked.change({ ...CAPABILITIES, models: [...CAPABILITIES.models, { model_id: 'added', size_gb: 1 }] });
    send(false, false);
    // Before the retry, the model goes again and another one with it: the hive's net change is only the second.
    tracked.change({ ...CAPABILITIES, models: [] });
    send(false, true);
    expect(queen.hives.get('hive-a')?.capabilities?.toJSON()).toEqual(tracked.current());
  });

  it('numbers every heartbeat it builds, retries included, from 0', () => {
    const payload = payloadWith(tracker(null));
    const reasons: SendRequest['reason'][] = ['discovery', 'heartbeat', 'heartbeat', 'final'];
    const seqs = reasons.map((reason) => payload.build(request(reason, reason === 'discovery')).seq);
    expect(seqs).toEqual([0, 1, 2, 3]);
  });

  it('cannot be locked out by a seq forged far ahead: one heartbeat refused, then a new boot_id and its full set', () => {
    const queen = startQueenRegistry().registry;
    let boots = 0;
    const payload = payloadWith(
      new MemoryCapabilities(CAPABILITIES),
      loadHiveIdentity(null, 'hive-a', silentLogger),
      createNumbering(() => `boot-${++boots}`),
    );
    /** One heartbeat to the queen and its answer back: the verdict's result, and whether it asked for the full set. */
    const send = (full: boolean): string => {
      const heartbeat = payload.build(request(full ? 'discovery' : 'heartbeat', full));
      const verdict = queen.receiveHive(heartbeat);
      const stale: SendOutcome = { ok: false, error: { kind: 'http', status: 409, message: 'stale' } };
      payload.sent(heartbeat, answerOf(verdict, stale), request('heartbeat', full));
      return verdict.ok ? (verdict.value.resync ?? 'ok') : verdict.error.kind;
    };
    expect(send(true)).toBe('ok');
    // One holder of the hive's secret sends the largest seq there is under its boot_id.
    const forged = payload.build(request('heartbeat', false));
    expect(queen.receiveHive({ ...forged, seq: Number.MAX_SAFE_INTEGER }).ok).toBe(true);
    // Refused once; then numbered under a new boot_id, which the queen takes for a restart: it asks for the set.
    expect([send(false), send(false), send(true), send(false)]).toEqual(['stale', 'restart', 'ok', 'ok']);
    expect(queen.hives.get('hive-a')?.report).toMatchObject({ boot_id: 'boot-2', seq: 2 });
  });

  it('says stopping in the final heartbeat', () => {
    expect(payloadWith(tracker(null)).build(request('final', false)).status).toBe('stopping');
  });

  it('acknowledges the version it carried on a 2xx only', () => {
    const source = tracker(CHANGES, 7);
    const payload = payloadWith(source);
    const heartbeat = payload.build(request('sync', false));
    payload.sent(heartbeat, FAILED, request('sync', false));
    expect(source.acknowledged).toEqual([]);
    payload.sent(heartbeat, OK, request('sync', false));
    expect(source.acknowledged).toEqual([7]);
  });

  it('keeps an issued secret with the queen that issued it', () => {
    const identity = loadHiveIdentity(null, 'hive-a', silentLogger);
    const payload = payloadWith(tracker(null), identity);
    const issued: SendOutcome = {
      ok: true,
      value: { status: 'ok', queen_epoch: 'e1', resync: false, hive_secret: 's1' },
    };
    const sentTo = request('discovery', true);
    payload.sent(payload.build(sentTo), issued, sentTo);
    expect(identity.secret()).toBe('s1');
    expect(identity.issuer()).toBe(sentTo.queenUrl);
  });

  it('counts a queen that took the secret among those that hold the identity (a leader it was redirected to)', () => {
    const identity = loadHiveIdentity(null, 'hive-a', silentLogger);
    identity.learn('s1', 'http://queen-a.test:7833');
    const payload = payloadWith(tracker(null), identity);
    const leader: SendRequest = { queenUrl: 'http://queen-b.test:7833', reason: 'heartbeat', full: false };
    payload.sent(payload.build(leader), FAILED, leader);
    expect([...identity.holders()]).toEqual([]);
    payload.sent(payload.build(leader), OK, leader);
    expect([...identity.holders()]).toEqual([leader.queenUrl]);
  });
});
