import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type AssembledQueen, assembleQueen } from '../../../actors/assemble-queen.js';
import { QUEEN_PATHS } from '../../../contracts/paths.js';
import { HiveList, WorkerList } from '../../../contracts/registry.js';
import { silentLogger } from '../../../services/logger.js';
import {
  DEFAULT_LIVENESS,
  hiveBeat,
  rememberingSecrets,
  steppedClocks,
  workerBeat,
} from '../../support/queen-registry.js';

/** docs/protocol.md's large-view rule: 10 000 hives × 8 workers written in pieces, no task blocking the event loop > 50 ms. */

const HIVES = 10_000;
const WORKERS_PER_HIVE = 8;
const MAX_BLOCK_MS = 50;
const ATTEMPTS = 3;
const RESOLUTION_MS = 5;
const MIN_TURNS = 100;

let queen: AssembledQueen | undefined;
afterEach(() => queen?.close());

/** Reads a byte stream to its end, or to the first `\n\n` (one SSE message): its length and its first and last bytes. */
async function drain(
  body: ReadableStream<Uint8Array> | null,
  untilBlankLine = false,
): Promise<{ bytes: number; head: string; tail: string }> {
  if (!body) throw new Error('no body');
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  let head = '';
  let tail = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (head.length < 200) head += decoder.decode(value.subarray(0, 200));
    tail = (tail + decoder.decode(value.subarray(Math.max(0, value.byteLength - 200)))).slice(-200);
    if (untilBlankLine && tail.endsWith('\n\n')) {
      await reader.cancel();
      break;
    }
  }
  return { bytes, head, tail };
}

/** A queen on stepped clocks, its heartbeats batched per event-loop turn or applied at once. */
function startQueen(batchHeartbeats: boolean): AssembledQueen {
  const { clock, timers } = steppedClocks();
  queen = assembleQueen({
    settings: DEFAULT_LIVENESS,
    streamIntervalMs: 60_000,
    logger: silentLogger,
    clock,
    timers,
    batchHeartbeats,
  });
  return queen;
}

describe('large views', () => {
  it(`writes /v1/hives and the stream snapshot of ${HIVES} hives × ${WORKERS_PER_HIVE} workers without blocking the event loop ${MAX_BLOCK_MS} ms`, async () => {
    const assembled = startQueen(true);
    const registry = rememberingSecrets(assembled.registry);
    for (let from = 0; from < HIVES; from += 500) {
      const ids = Array.from({ length: 500 }, (_, i) => `hive-${String(from + i).padStart(5, '0')}`);
      await Promise.all(ids.map((id) => registry.submitHive(hiveBeat(id))));
      await Promise.all(
        ids.flatMap((hiveId) =>
          Array.from({ length: WORKERS_PER_HIVE }, (_, w) =>
            registry.submitWorker(workerBeat(`${hiveId}-w${w}`, hiveId)),
          ),
        ),
      );
    }
    expect(assembled.registry.hives.count('online')).toBe(HIVES);
    expect(assembled.registry.workers.count('online')).toBe(HIVES * WORKERS_PER_HIVE);

    // Wall-clock delay also counts the OS preempting this process and GC pauses stretched by a busy machine: the
    // 50 ms bound is asserted (best of a few runs) when the machine has a core to spare; that the writers hand the
    // event loop back all along (many turns while they write) is asserted always.
    const spareCore = (os.loadavg()[0] ?? 0) < os.cpus().length - 1;
    const runs: { blockMs: number; turns: number }[] = [];
    for (
      let attempt = 0;
      attempt < (spareCore ? ATTEMPTS : 1) && !runs.some((run) => run.blockMs < MAX_BLOCK_MS);
      attempt++
    ) {
      const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      let turns = 0;
      let writing = true;
      const turn = (): void => {
        turns++;
        if (writing) setImmediate(turn);
      };
      delay.enable();
      setImmediate(turn);
      const [hives, snapshot] = await Promise.all([
        Promise.resolve(assembled.app.request(QUEEN_PATHS.hives)).then((response) => drain(response.body)),
        drain(assembled.stream.connect(), true),
      ]);
      writing = false;
      // One more turn of the loop, so a block that lasted to the end is sampled too.
      await new Promise((resolve) => setTimeout(resolve, 2 * RESOLUTION_MS));
      delay.disable();
      runs.push({ blockMs: delay.max / 1e6, turns });
      expect(hives.head.startsWith('{"hives":[{"hive_id":"hive-00000"')).toBe(true);
      expect(hives.tail.endsWith('}]}')).toBe(true);
      expect(hives.bytes).toBeGreaterThan(HIVES * 500);
      expect(snapshot.head).toMatch(/^event: heartbeat\nid: \d+\ndata: \{"type":"snapshot","rev":\d+,"hives":\[\{/);
      expect(snapshot.tail.endsWith(']}\n\n')).toBe(true);
      expect(snapshot.bytes).toBeGreaterThan(hives.bytes + HIVES * WORKERS_PER_HIVE * 200);
      // 50 MB written in 16 KB pieces, a turn of the loop at least every few ms of work.
      expect(turns).toBeGreaterThan(MIN_TURNS);
    }
    console.log(
      `longest event-loop block per run: ${runs.map((r) => `${r.blockMs.toFixed(1)} ms (${r.turns} turns)`).join(', ')}; ` +
        `load average ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores`,
    );
    if (spareCore) expect(Math.min(...runs.map((run) => run.blockMs))).toBeLessThan(MAX_BLOCK_MS);
  }, 120_000);

  it('writes views that parse as the contract, in id order', async () => {
    const assembled = startQueen(false);
    const registry = rememberingSecrets(assembled.registry);
    for (const id of ['b', 'a', 'c']) registry.receiveHive(hiveBeat(id));
    for (const [id, hive] of [
      ['w9', 'unknown'],
      ['w3', 'b'],
      ['w2', 'a'],
      ['w1', 'a'],
    ] as const) {
      registry.receiveWorker(workerBeat(id, hive));
    }
    const hives = HiveList.parse(await (await assembled.app.request(QUEEN_PATHS.hives)).json());
    const all = WorkerList.parse(await (await assembled.app.request(QUEEN_PATHS.workers)).json());
    const ofA = WorkerList.parse(await (await assembled.app.request(`${QUEEN_PATHS.workers}?hive_id=a`)).json());
    expect(hives.hives.map((hive) => hive.hive_id)).toEqual(['a', 'b', 'c']);
    // By hive, then id; a worker of a hive the queen does not know comes last.
    expect(all.workers.map((worker) => worker.worker_id)).toEqual(['w1', 'w2', 'w3', 'w9']);
    expect(ofA.workers.map((worker) => worker.worker_id)).toEqual(['w1', 'w2']);
  });
});
