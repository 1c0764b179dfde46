import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Capabilities } from '../../contracts/capabilities.js';
import { QUEEN_PATHS, withId } from '../../contracts/paths.js';
import type { HiveView } from '../../contracts/registry.js';
import type { LivenessEvent, StreamEvent } from '../../contracts/stream.js';
import { isRunning } from '../support/process-tree.js';
import { QueenApi } from '../support/queen-api.js';
import { eventually, killAll, type RoleProcess } from '../support/role-process.js';
import { StreamRecorder } from '../support/stream-recorder.js';
import {
  crashHive,
  createHiveDirs,
  HEARTBEAT_MS,
  killHiveGroups,
  OFFLINE_MS,
  SUSPECT_MS,
  startHive,
  startQueen,
} from './cluster-roles.js';
import { hiveHealth, spawnWorker } from './hive-api.js';

/** What goes wrong in a real cluster — a queen restart, a hive crash, a new model, a wrong token, a duplicate id. */

/** How late the queen may judge a silence: its sweep runs every suspect-after / 20, plus scheduling. */
const JUDGED_WITHIN_MS = 300;
/** What two cores busy with the rest of the suite (and a second suite beside it) add to a cold queen's first exchanges. */
const SCHEDULING_SLACK_MS = 1_000;
/** A model change travels: settle (500 ms here), a rescan, one capability sync. Exact timing is the machines' tests'. */
const CHANGE_SEEN_MS = 5_000;

let root = '';
const streams: StreamRecorder[] = [];

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'apiary-e2e-failures-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  for (const stream of streams.splice(0)) stream.close();
  killHiveGroups();
  killAll();
});

async function watch(queen: RoleProcess, token?: string): Promise<StreamRecorder> {
  const stream = await StreamRecorder.open(queen.url, token);
  streams.push(stream);
  return stream;
}

function heartbeatingAt(queen: QueenApi, hiveId: string): Promise<HiveView> {
  return eventually(async () => {
    const view = await queen.hive(hiveId);
    return view?.liveness === 'online' && view.capabilities !== null ? view : undefined;
  }, `hive ${hiveId} online with its capabilities`);
}

function workerReady(queen: QueenApi, workerId: string): Promise<unknown> {
  return eventually(async () => {
    const view = await queen.worker(workerId);
    return view?.available ? view : undefined;
  }, `worker ${workerId} ready at the queen`);
}

function transitionOf(id: string, to: LivenessEvent['to']): (event: StreamEvent) => LivenessEvent | undefined {
  return (event) => (event.type === 'liveness' && event.id === id && event.to === to ? event : undefined);
}

function bootIdOf(hive: RoleProcess): unknown {
  return hive.logs.find((line) => line.msg === 'hive listening')?.boot_id;
}

function logTime(role: RoleProcess, msg: string): number {
  const line = role.logs.find((entry) => entry.msg === msg);
  if (typeof line?.time !== 'string') throw new Error(`no "${msg}" line in the ${role.role}'s log`);
  return Date.parse(line.time);
}

describe('failures in a running cluster', () => {
  it('a queen restarted on its port has every hive back with full capabilities within one heartbeat interval, and marks none offline', async () => {
    const first = await startQueen();
    const port = new URL(first.url).port;
    const ids = ['restart-a', 'restart-b'];
    const hives = await Promise.all(
      ids.map((id) => startHive(id, createHiveDirs(root, id, ['tiny', `${id}-only`]), ['--queen-url', first.url])),
    );
    const before = new QueenApi(first.url);
    const capabilities = new Map<string, Capabilities | null>();
    for (const id of ids) capabilities.set(id, (await heartbeatingAt(before, id)).capabilities);
    const worker = await spawnWorker(hives[0]?.url ?? '', 'tiny');
    await workerReady(before, worker.worker_id);

    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startQueen(['--port', port]);
    const upAt = logTime(second, 'queen listening');
    const after = new QueenApi(second.url);
    const stream = await watch(second);

    for (const id of ids) {
      // The first time the new queen shows the hive with capabilities; `last_seen` bounds when they arrived.
      const back = await stream.waitFor((event) => {
        if (event.type === 'snapshot') return event.hives.find((hive) => hive.hive_id === id && hive.capabilities);
        return event.type === 'hive' && event.hive_id === id && event.capabilities ? event : undefined;
      }, `${id} back with its capabilities`);
      expect(back.capabilities).toEqual(capabilities.get(id));
      expect(back.liveness).toBe('online');
      expect(Date.parse(back.last_seen ?? '') - upAt).toBeLessThanOrEqual(HEARTBEAT_MS + SCHEDULING_SLACK_MS);
    }
    // At most one resync per hive: its first heartbeat to the new queen, answered at once with everything.
    expect(await after.metric('apiary_resyncs_total', {})).toBeLessThanOrEqual(ids.length);
    await workerReady(after, worker.worker_id);

    // A whole offline-after later, nothing the restart touched went offline on the new queen. (A suspect is not
    // asserted away: a hive starved of CPU for suspect-after by a loaded machine is rightly suspect.)
    await new Promise((resolve) => setTimeout(resolve, OFFLINE_MS + 200));
    const transitions = stream.events.flatMap(({ event }) => (event.type === 'liveness' ? [event] : []));
    expect(transitions.filter((event) => event.to === 'offline')).toEqual([]);
    expect(await after.health()).toMatchObject({ hives: { online: 2, offline: 0 }, workers: { available: 1 } });
    expect(stream.failure).toBeUndefined();
  });

  it('a hive killed with kill -9 turns suspect and offline on time, and its workers go offline with it', async () => {
    const hiveId = 'crashing-hive';
    const queenProcess = await startQueen();
    const queen = new QueenApi(queenProcess.url);
    const hive = await startHive(hiveId, createHiveDirs(root, hiveId), ['--queen-url', queenProcess.url]);
    await heartbeatingAt(queen, hiveId);
    const worker = await spawnWorker(hive.url, 'tiny');
    await workerReady(queen, worker.worker_id);
    const stream = await watch(queenProcess);

    // kill -9 of the hive's process group, its worker included: a lone hive's workers outlive it and heartbeat on.
    await crashHive(hive);
    await eventually(() => (isRunning(worker.pid) ? undefined : true), 'the worker dying with its hive', 1_000);
    // Every heartbeat the hive sent has landed or is lost: this is its last.
    const lastSeen = Date.parse((await queen.hive(hiveId))?.last_seen ?? '');

    const suspect = await stream.waitFor(transitionOf(hiveId, 'suspect'), 'the hive suspect');
    const offline = await stream.waitFor(transitionOf(hiveId, 'offline'), 'the hive offline');
    const workerOffline = await stream.waitFor(transitionOf(worker.worker_id, 'offline'), 'its worker offline');
    expect(suspect).toMatchObject({ kind: 'hive', from: 'online', reason: 'missed heartbeats' });
    expect(offline).toMatchObject({ kind: 'hive', from: 'suspect', reason: 'missed heartbeats' });
    const silence = (event: LivenessEvent): number => Date.parse(event.timestamp) - lastSeen;
    expect(silence(suspect)).toBeGreaterThanOrEqual(SUSPECT_MS);
    expect(silence(suspect)).toBeLessThanOrEqual(SUSPECT_MS + JUDGED_WITHIN_MS);
    expect(silence(offline)).toBeGreaterThanOrEqual(OFFLINE_MS);
    expect(silence(offline)).toBeLessThanOrEqual(OFFLINE_MS + JUDGED_WITHIN_MS);
    expect(workerOffline.kind).toBe('worker');
    expect(Date.parse(workerOffline.timestamp)).toBeLessThanOrEqual(Date.parse(offline.timestamp) + 50);

    expect(await queen.worker(worker.worker_id)).toMatchObject({ liveness: 'offline', available: false });
    expect(await queen.health()).toMatchObject({
      hives: { online: 0, offline: 1 },
      workers: { online: 0, available: 0, offline: 1 },
    });
    const backOnline = stream.events.filter(({ event }) => event.type === 'liveness' && event.to === 'online');
    expect(backOnline).toEqual([]);
  });

  it('a model file added on a hive reaches the queen view as a delta once settled, and leaves it once removed', async () => {
    const hiveId = 'growing-hive';
    const dirs = createHiveDirs(root, hiveId);
    const queenProcess = await startQueen();
    const queen = new QueenApi(queenProcess.url);
    await startHive(hiveId, dirs, ['--queen-url', queenProcess.url]);
    const before = await heartbeatingAt(queen, hiveId);

    const file = path.join(dirs.modelsDir, 'qwen', 'qwen2.5-0.5b.safetensors');
    mkdirSync(path.dirname(file));
    writeFileSync(file, Buffer.alloc(3 * 1024 * 1024));
    const addedAt = Date.now();
    const added = await eventually(
      async () => {
        const view = await queen.hive(hiveId);
        return view?.capabilities?.models.some((model) => model.model_id === 'qwen/qwen2.5-0.5b') ? view : undefined;
      },
      'the new model at the queen',
      CHANGE_SEEN_MS,
    );
    expect(Date.now() - addedAt).toBeLessThan(CHANGE_SEEN_MS);
    const models = [...(added.capabilities?.models ?? [])].sort((a, b) => a.model_id.localeCompare(b.model_id));
    expect(models).toEqual([
      { model_id: 'qwen/qwen2.5-0.5b', size_gb: 3 / 1024 },
      { model_id: 'tiny', size_gb: 2 / 1024 },
    ]);
    expect(added.capabilities_version ?? 0).toBeGreaterThan(before.capabilities_version ?? 0);

    rmSync(file);
    const removedAt = Date.now();
    const removed = await eventually(
      async () => {
        const view = await queen.hive(hiveId);
        return view?.capabilities?.models.length === 1 ? view : undefined;
      },
      'the removed model gone from the queen',
      CHANGE_SEEN_MS,
    );
    expect(Date.now() - removedAt).toBeLessThan(CHANGE_SEEN_MS);
    expect(removed.capabilities?.models.map((model) => model.model_id)).toEqual(['tiny']);
    // Both changes travelled as deltas the queen could apply: it never had to ask for the full set.
    expect(await queen.metric('apiary_resyncs_total', {})).toBe(0);
  });

  it('a hive with the wrong token registers nothing, and logs the 401 once while it keeps trying', async () => {
    const hiveId = 'stranger-hive';
    const queenProcess = await startQueen(['--token', 'queen-secret-A']);
    const queen = new QueenApi(queenProcess.url, 'queen-secret-A');
    const hive = await startHive(hiveId, createHiveDirs(root, hiveId), [
      ...['--queen-url', queenProcess.url, '--token', 'hive-secret-B'],
    ]);

    // Every push attempt refused, then the waiting hive's probes refused too.
    await eventually(
      async () => ((await hiveHealth(hive.url)).lifecycle === 'DISCOVERY_WAIT' ? true : undefined),
      'the hive giving up pushing',
    );
    const refused = { kind: 'hive', result: 'unauthorized' };
    await eventually(
      async () => ((await queen.metric('apiary_heartbeats_received_total', refused)) >= 6 ? true : undefined),
      'a probe refused after the push attempts',
    );

    expect(await queen.hives()).toEqual([]);
    expect(await queen.metric('apiary_heartbeats_received_total', { kind: 'hive', result: 'accepted' })).toBe(0);
    expect(await queen.health()).toMatchObject({ hives: { expected: 0, online: 0, suspect: 0, offline: 0 } });
    const failures = hive.logs.filter((line) => line.msg === 'heartbeat failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.failure).toMatchObject({ kind: 'http', status: 401 });
    const everything = JSON.stringify([...hive.logs, ...queenProcess.logs]);
    expect(everything).not.toContain('queen-secret-A');
    expect(everything).not.toContain('hive-secret-B');
  });

  it('a second hive with the same --hive-id is refused (403: no identity) and says so, until the operator resets the id', async () => {
    const hiveId = 'twin';
    const queenProcess = await startQueen();
    const queen = new QueenApi(queenProcess.url);
    const stream = await watch(queenProcess);
    const first = await startHive(hiveId, createHiveDirs(root, 'twin-a'), ['--queen-url', queenProcess.url]);
    await heartbeatingAt(queen, hiveId);
    const second = await startHive(hiveId, createHiveDirs(root, 'twin-b', ['other']), [
      ...['--queen-url', queenProcess.url],
    ]);

    // The second hive says why in one line, and gives up pushing after its attempts.
    const refusal = await eventually(() => second.logs.find((line) => line.msg === 'heartbeat failed'), 'a refusal');
    expect(refusal.failure).toMatchObject({
      kind: 'http',
      status: 403,
      message: expect.stringContaining('the same --hive-id'),
    });
    await eventually(
      async () => ((await hiveHealth(second.url)).lifecycle === 'DISCOVERY_WAIT' ? true : undefined),
      'the second hive giving up pushing',
    );
    expect(second.logs.filter((line) => line.msg === 'heartbeat failed')).toHaveLength(1);
    expect(queenProcess.logs.filter((line) => line.msg === 'heartbeat refused: identity not proven')).toEqual([
      expect.objectContaining({ kind: 'hive', id: hiveId, source: '127.0.0.1' }),
    ]);
    const refused = await queen.metric('apiary_heartbeats_received_total', {
      kind: 'hive',
      result: 'identity_refused',
    });
    expect(refused).toBeGreaterThanOrEqual(2);

    // One entry, the first hive's, all along: never flipping between the two boot ids.
    const hives = await queen.hives();
    expect(hives).toHaveLength(1);
    expect(hives[0]).toMatchObject({ hive_id: hiveId, boot_id: bootIdOf(first), hive_url: first.url });
    expect(hives[0]?.capabilities?.models.map((model) => model.model_id)).toEqual(['tiny']);
    const seen = (): unknown[] =>
      stream.events.flatMap(({ event }) => (event.type === 'hive' && event.hive_id === hiveId ? [event.boot_id] : []));
    expect(new Set(seen())).toEqual(new Set([bootIdOf(first)]));

    // The first gone, the id is still the first's; the operator resets it, and the waiting second one registers.
    await crashHive(first);
    const reset = await fetch(`${queenProcess.url}${withId(QUEEN_PATHS.hive, hiveId)}`, { method: 'DELETE' });
    expect(reset.status).toBe(204);
    const takeover = await stream.waitFor(
      (event) => (event.type === 'hive' && event.boot_id === bootIdOf(second) ? event : undefined),
      'the second hive registered anew',
      SUSPECT_MS + 5_000,
    );
    expect(takeover).toMatchObject({ liveness: 'online', hive_url: second.url });
    expect(takeover.capabilities?.models.map((model) => model.model_id)).toEqual(['other']);
  });
});
