import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QueenApi } from '../support/queen-api.js';
import { eventually, killAll } from '../support/role-process.js';
import { StreamRecorder } from '../support/stream-recorder.js';
import { createHiveDirs, killHiveGroups, OFFLINE_MS, startHive, startQueen } from './cluster-roles.js';
import { spawnWorker } from './hive-api.js';

/** docs/protocol.md's stall rule on real processes: a queen frozen with SIGSTOP charges nobody for its own pause. */

const STALL_MS = 2 * OFFLINE_MS;
/** The queen's stream interval in the cluster timings: periodic `queen` events mark its clock moving. */
const QUEEN_EVENT_MS = 500;
/** How long a hive and two workers may take to start and report on a machine busy with the rest of the suite. */
const START_MS = 30_000;

let root = '';
let stream: StreamRecorder | undefined;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'apiary-e2e-stall-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  stream?.close();
  killHiveGroups();
  killAll();
});

describe('a stalled queen', () => {
  it('SIGSTOPped for twice offline-after, then SIGCONT: no liveness transition for a hive and its workers', async () => {
    const queenProcess = await startQueen();
    const queen = new QueenApi(queenProcess.url);
    const hive = await startHive('stalled-queen-hive', createHiveDirs(root, 'stalled-queen-hive'), [
      '--queen-url',
      queenProcess.url,
    ]);
    const workers = [await spawnWorker(hive.url, 'tiny'), await spawnWorker(hive.url, 'tiny')];
    await eventually(
      async () => {
        const health = await queen.health();
        return health.hives.online === 1 && health.workers.available === 2 ? health : undefined;
      },
      'the hive online and both workers available',
      START_MS,
    );
    // Watched from here on: a hive starved at start by a loaded machine may have been suspect before, for a moment.
    const watchedFrom = Date.now();
    stream = await StreamRecorder.open(queenProcess.url);
    const recorder = stream;

    queenProcess.child.kill('SIGSTOP');
    // The stall itself: its length is the point of the test, not a wait for something to happen.
    await new Promise((resolve) => setTimeout(resolve, STALL_MS));
    queenProcess.child.kill('SIGCONT');
    const resumed = recorder.events.length;

    // Every sender heard again, then the queen's clock moving on for longer than offline-after plus its hold.
    await eventually(
      () => {
        const heard = new Set<string>();
        for (const { event } of recorder.events.slice(resumed)) {
          if (event.type === 'hive') heard.add(event.hive_id);
          if (event.type === 'worker') heard.add(event.worker_id);
        }
        return heard.size === 1 + workers.length ? true : undefined;
      },
      'a heartbeat of every sender after the stall',
      10_000,
    );
    const after = recorder.events.length;
    const periods = Math.ceil((2 * OFFLINE_MS) / QUEEN_EVENT_MS) + 1;
    await eventually(
      () =>
        recorder.events.slice(after).filter(({ event }) => event.type === 'queen').length >= periods ? true : undefined,
      `${periods} more queen events`,
      20_000,
    );

    const transitions = recorder.events.flatMap(({ event }) => (event.type === 'liveness' ? [event] : []));
    expect(transitions).toEqual([]);
    expect(recorder.events.length).toBeGreaterThan(resumed);
    expect(await queen.health()).toMatchObject({
      hives: { online: 1, suspect: 0, offline: 0 },
      workers: { available: 2 },
    });
    expect(queenProcess.logs.some((line) => line.msg === 'queen stalled: liveness deadlines moved by the stall')).toBe(
      true,
    );
    const watched = queenProcess.logs.filter((line) => Date.parse(String(line.time)) >= watchedFrom);
    expect(watched.filter((line) => line.msg === 'liveness' && line.from !== null)).toEqual([]);
  }, 90_000);
});
