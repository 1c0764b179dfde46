import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HiveView } from '../../contracts/registry.js';
import { freePort } from '../../services/ports.js';
import { QueenApi } from '../support/queen-api.js';
import { eventually, killAll, type RoleProcess, startRole } from '../support/role-process.js';
import { StreamRecorder } from '../support/stream-recorder.js';
import {
  createHiveDirs,
  HEARTBEAT_MS,
  killHiveGroups,
  MODEL_BYTES,
  queenArgs,
  startHive,
  startQueen,
} from './cluster-roles.js';
import { hiveHealth } from './hive-api.js';

/** The design's three start-up orders (hive first, queen first, both at once), each ending with one live hive entry. */

let root = '';
const streams: StreamRecorder[] = [];

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'apiary-e2e-startup-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  for (const stream of streams.splice(0)) stream.close();
  killHiveGroups();
  killAll();
});

function onlineAt(queen: QueenApi, hiveId: string, timeoutMs = 15_000): Promise<HiveView> {
  return eventually(
    async () => {
      const view = await queen.hive(hiveId);
      return view?.liveness === 'online' ? view : undefined;
    },
    `hive ${hiveId} online at the queen`,
    timeoutMs,
  );
}

function bootIdOf(hive: RoleProcess): unknown {
  return hive.logs.find((line) => line.msg === 'hive listening')?.boot_id;
}

function lifecycleOf(hive: RoleProcess): unknown[] {
  return hive.logs.filter((line) => line.msg === 'lifecycle').map((line) => line.to);
}

/** An SSH config as an operator writes one: `Host <alias>` with a `HostName` per hive, and a wildcard block. */
function writeHivesConfig(name: string, hosts: Record<string, string>): string {
  const file = path.join(root, `${name}.ssh-config`);
  const blocks = Object.entries(hosts).map(
    ([alias, hostName]) => `Host ${alias}\n  HostName ${hostName}\n  User gpu\n`,
  );
  writeFileSync(file, `Host *\n  ServerAliveInterval 30\n\n${blocks.join('\n')}`);
  return file;
}

describe('start-up orders', () => {
  it('hive first: it pushes with backoff while the queen is down, and is registered on the next attempt once it is up', async () => {
    const hiveId = 'early-hive';
    const queenPort = await freePort('127.0.0.1');
    const hive = await startHive(hiveId, createHiveDirs(root, hiveId), [
      // Attempts to spare (about 30 s): a queen slow to start on a loaded machine is still found by one of them.
      ...['--queen-url', `http://127.0.0.1:${queenPort}`, '--max-failures', '100'],
    ]);
    await eventually(() => hive.logs.find((line) => line.msg === 'heartbeat failed'), 'the first attempt failing');
    expect(await hiveHealth(hive.url)).toMatchObject({ lifecycle: 'DISCOVERY_PUSH' });

    const queenProcess = await startQueen(['--port', String(queenPort)]);
    const queen = new QueenApi(queenProcess.url);
    const view = await onlineAt(queen, hiveId);
    expect(view).toMatchObject({ boot_id: bootIdOf(hive), hive_url: hive.url, status: 'ready', expected: false });
    // The discovery heartbeat carried everything: capabilities and monitor data on first contact.
    expect(view.capabilities?.models).toEqual([{ model_id: 'tiny', size_gb: MODEL_BYTES / 1024 ** 3 }]);
    expect(view.capabilities?.devices.map((device) => device.id)).toContain('CPU-0');
    expect(view.capabilities?.workers.map((worker) => worker.worker_type)).toContain('cpu');
    expect(view.monitor_data?.ram_total_gb).toBeGreaterThan(0);

    // Its log lines trail the queen's view by a pipe. Found by a backoff attempt, not by a re-probe after waiting.
    await eventually(() => (lifecycleOf(hive).length === 2 ? true : undefined), 'the hive logging its new state');
    expect(lifecycleOf(hive)).toEqual(['DISCOVERY_PUSH', 'HEARTBEATING']);
    // Quiet while retrying: one warning for the whole failing run, one line when the queen answered.
    expect(hive.logs.filter((line) => line.msg === 'heartbeat failed')).toHaveLength(1);
    expect(hive.logs.filter((line) => line.msg === 'queen reachable again')).toHaveLength(1);
    expect(await hiveHealth(hive.url)).toMatchObject({ lifecycle: 'HEARTBEATING', queen_url: queenProcess.url });
    expect(await queen.health()).toMatchObject({ status: 'ok', hives: { online: 1, expected: 0 } });
  });

  it('queen first (pull discovery): a hive waiting without --queen-url is found through the SSH config; a down host is expected', async () => {
    const hiveId = 'waiting-hive';
    // The queen discovers once, --discovery-delay after it starts: the hive has to be up by then, waiting for it.
    const hive = await startHive(hiveId, createHiveDirs(root, hiveId));
    expect(await hiveHealth(hive.url)).toMatchObject({ lifecycle: 'DISCOVERY_WAIT', queen_url: null });
    const hivePort = new URL(hive.url).port;
    // Nothing listens on 127.0.0.2: that host is down.
    const config = writeHivesConfig('queen-first', { myhive: '127.0.0.1', deadhive: '127.0.0.2' });

    const queenProcess = await startQueen([
      ...['--discovery', '--hives-config', config, '--hive-port', hivePort],
      ...['--discovery-delay', '0', '--discovery-timeout', '5s'],
    ]);
    const queen = new QueenApi(queenProcess.url);
    const stream = await StreamRecorder.open(queen.url);
    streams.push(stream);
    // Registered under its own id from the discovery answer, then heartbeating to the URL the queen gave. The queen's
    // log, not the stream, shows the first transition: discovery may finish before the stream is open.
    const discovered = await eventually(
      () => queenProcess.logs.find((line) => line.msg === 'liveness' && line.id === hiveId),
      'the hive coming online',
    );
    expect(discovered).toMatchObject({ kind: 'hive', from: null, to: 'online', reason: 'discovered' });
    const heartbeat = await stream.waitFor(
      // The discovery answer carries no boot id; the hive's own heartbeats do.
      (event) => (event.type === 'hive' && event.hive_id === hiveId && event.boot_id !== null ? event : undefined),
      'the first heartbeat of the discovered hive',
    );
    expect(heartbeat).toMatchObject({
      liveness: 'online',
      expected: true,
      hive_url: hive.url,
      boot_id: bootIdOf(hive),
    });
    expect(heartbeat.capabilities?.models.map((model) => model.model_id)).toEqual(['tiny']);
    await eventually(() => (lifecycleOf(hive).length === 2 ? true : undefined), 'the hive logging its new state');
    expect(lifecycleOf(hive)).toEqual(['DISCOVERY_WAIT', 'HEARTBEATING']);
    expect(await hiveHealth(hive.url)).toMatchObject({ lifecycle: 'HEARTBEATING', queen_url: queenProcess.url });

    const dead = await eventually(() => queen.hive('deadhive'), 'the unreachable host listed');
    expect(dead).toMatchObject({ liveness: 'offline', expected: true, last_seen: null, capabilities: null });
    expect(await queen.health()).toMatchObject({
      status: 'degraded',
      hives: { expected: 2, online: 1, offline: 1 },
    });
    expect((await queen.hives()).map((entry) => entry.hive_id).sort()).toEqual(['deadhive', hiveId]);
    expect(queenProcess.logs.filter((line) => line.msg === 'hive not discovered')).toEqual([
      expect.objectContaining({ host: 'deadhive', host_name: '127.0.0.2' }),
    ]);
  });

  it('both at once: push and pull discovery race, and the hive ends up once in the registry with one heartbeat loop', async () => {
    const hiveId = 'racing-hive';
    const queenPort = await freePort('127.0.0.1');
    let hivePort = await freePort('127.0.0.1');
    while (hivePort === queenPort) hivePort = await freePort('127.0.0.1');
    const queenUrl = `http://127.0.0.1:${queenPort}`;
    const config = writeHivesConfig('both', { myhive: '127.0.0.1' });

    const [queenProcess, hive] = await Promise.all([
      startRole(
        'queen',
        queenArgs([
          ...['--port', String(queenPort), '--discovery', '--hives-config', config],
          ...['--hive-port', String(hivePort), '--discovery-delay', '0', '--discovery-timeout', '5s'],
        ]),
      ),
      startHive(hiveId, createHiveDirs(root, hiveId), ['--port', String(hivePort), '--queen-url', queenUrl]),
    ]);
    const queen = new QueenApi(queenProcess.url);
    const stream = await StreamRecorder.open(queen.url);
    streams.push(stream);
    await eventually(async () => {
      const view = await queen.hive(hiveId);
      return view?.liveness === 'online' && view.boot_id !== null ? view : undefined;
    }, 'the hive online and heartbeating');
    // Whichever side won, discovery has finished; a placeholder of the SSH alias (if the call came first and failed)
    // is replaced once the queen calls the address the hive's heartbeats claim, which it does at once.
    await eventually(() => queenProcess.logs.find((line) => line.msg === 'discovery finished'), 'discovery finished');
    const hives = await eventually(async () => {
      const listed = await queen.hives();
      return listed.length === 1 && listed[0]?.expected ? listed : undefined;
    }, 'the hive alone in the registry, expected');
    expect(hives.map((entry) => entry.hive_id)).toEqual([hiveId]);
    expect(hives[0]).toMatchObject({ liveness: 'online', expected: true, hive_url: hive.url, boot_id: bootIdOf(hive) });
    expect(hives[0]?.capabilities?.models.map((model) => model.model_id)).toEqual(['tiny']);
    expect(await queen.health()).toMatchObject({ status: 'ok', hives: { expected: 1, online: 1, offline: 0 } });
    expect(await hiveHealth(hive.url)).toMatchObject({ lifecycle: 'HEARTBEATING', queen_url: queenUrl });

    // One loop: about one heartbeat per interval over ten intervals (two loops would send twice as many, ~20).
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 10 * HEARTBEAT_MS));
    const heartbeats = stream.events.filter(
      ({ at, event }) => at >= from && event.type === 'hive' && event.hive_id === hiveId,
    );
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    expect(heartbeats.length).toBeLessThanOrEqual(14);
    expect(new Set(heartbeats.map(({ event }) => (event.type === 'hive' ? event.boot_id : null)))).toEqual(
      new Set([bootIdOf(hive)]),
    );
  });
});
