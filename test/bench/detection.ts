import { QUEEN_PATHS } from '../../contracts/paths.js';
import { StreamEvent } from '../../contracts/stream.js';
import { ChildGroup } from './support/children.js';
import { createHiveDirs, hiveArgs } from './support/hive-dirs.js';
import { waitFor } from './support/http.js';
import { startBenchQueen } from './support/queen.js';
import { fixed, note, printTable, printVerdict, type Verdict } from './support/report.js';
import { openStream } from './support/sse.js';
import { median } from './support/stats.js';

/**
 * Detection: a real hive heartbeating every 1 s to a real queen (suspect after 3 s, offline after 6 s) is killed
 * with SIGKILL; the time from its last heartbeat to `suspect` and to `offline` is read off the queen's stream, both as
 * the stream client received the events and on the queen's own clock (`last_seen` → the transition's `timestamp`).
 * Target: every transition within its window + 250 ms.
 */

const REPEATS = 5;
const WINDOWS = { suspect: 3_000, offline: 6_000 } as const;
const TOLERANCE_MS = 250;
const BEATS_BEFORE_KILL = 3;

interface Seen {
  event: StreamEvent;
  receivedAt: number;
}

interface Detection {
  suspectMs: number;
  offlineMs: number;
  suspectQueenMs: number;
  offlineQueenMs: number;
}

export async function detection(): Promise<Verdict> {
  const group = new ChildGroup();
  const dirs = await createHiveDirs();
  try {
    const queen = await startBenchQueen(group, [
      ...['--heartbeat-interval', '1s', '--suspect-after', `${WINDOWS.suspect}ms`],
      ...['--offline-after', `${WINDOWS.offline}ms`, '--forget-after', '1m'],
    ]);
    const seen: Seen[] = [];
    const stream = await openStream(`${queen.url}${QUEEN_PATHS.stream}`, ({ data, receivedAt }) => {
      if (data === '') return;
      const parsed = StreamEvent.safeParse(JSON.parse(data));
      if (parsed.success) seen.push({ event: parsed.data, receivedAt });
    });
    try {
      const runs: Detection[] = [];
      for (let repeat = 1; repeat <= REPEATS; repeat++) {
        const hiveId = `detect-${repeat}`;
        note(`detection: run ${repeat} of ${REPEATS}`);
        const hive = await group.role('hive', hiveArgs(dirs, queen.url, hiveId));
        await waitFor(`${BEATS_BEFORE_KILL} heartbeats of ${hiveId}`, 15_000, async () =>
          beatsOf(seen, hiveId).length >= BEATS_BEFORE_KILL ? true : undefined,
        );
        await group.kill(hive.child);
        const offline = await waitFor(`${hiveId} offline`, WINDOWS.offline + 10_000, async () =>
          transitionOf(seen, hiveId, 'offline'),
        );
        const suspect = transitionOf(seen, hiveId, 'suspect');
        if (!suspect) throw new Error(`${hiveId} went offline without being suspect first`);
        const last = beatsOf(seen, hiveId)
          .filter((beat) => beat.receivedAt < suspect.receivedAt)
          .at(-1);
        if (last?.event.type !== 'hive' || suspect.event.type !== 'liveness' || offline.event.type !== 'liveness')
          throw new Error(`no heartbeat of ${hiveId} before it turned suspect`);
        const lastSeen = Date.parse(last.event.last_seen ?? '');
        runs.push({
          suspectMs: suspect.receivedAt - last.receivedAt,
          offlineMs: offline.receivedAt - last.receivedAt,
          suspectQueenMs: Date.parse(suspect.event.timestamp) - lastSeen,
          offlineQueenMs: Date.parse(offline.event.timestamp) - lastSeen,
        });
      }

      printTable(
        `Detection: SIGKILL of a hive (heartbeat 1 s; suspect after ${WINDOWS.suspect / 1000} s, offline after ` +
          `${WINDOWS.offline / 1000} s), ms from its last heartbeat; stream = as received by a stream client, ` +
          'queen = last_seen → transition timestamp',
        ['run', 'suspect (stream)', 'offline (stream)', 'suspect (queen)', 'offline (queen)'],
        runs.map((run, index) => [
          String(index + 1),
          fixed(run.suspectMs, 0),
          fixed(run.offlineMs, 0),
          fixed(run.suspectQueenMs, 0),
          fixed(run.offlineQueenMs, 0),
        ]),
      );
      const summary = (name: string, window: number, values: number[]): string[] => [
        name,
        String(window),
        fixed(Math.min(...values), 0),
        fixed(median(values), 0),
        fixed(Math.max(...values), 0),
        `+${fixed(Math.max(...values) - window, 0)}`,
      ];
      printTable(
        `Detection over ${REPEATS} runs (stream-received times)`,
        ['transition', 'window ms', 'min ms', 'median ms', 'max ms', 'worst over window'],
        [
          summary(
            'suspect',
            WINDOWS.suspect,
            runs.map((run) => run.suspectMs),
          ),
          summary(
            'offline',
            WINDOWS.offline,
            runs.map((run) => run.offlineMs),
          ),
        ],
      );
      const worstSuspect = Math.max(...runs.map((run) => run.suspectMs)) - WINDOWS.suspect;
      const worstOffline = Math.max(...runs.map((run) => run.offlineMs)) - WINDOWS.offline;
      return printVerdict({
        bench: 'detection',
        pass: worstSuspect <= TOLERANCE_MS && worstOffline <= TOLERANCE_MS,
        text:
          `worst suspect +${fixed(worstSuspect, 0)} ms, worst offline +${fixed(worstOffline, 0)} ms over the window ` +
          `(target ≤ +${TOLERANCE_MS} ms)`,
      });
    } finally {
      stream.close();
    }
  } finally {
    await group.killAll();
    await dirs.remove();
  }
}

function beatsOf(seen: readonly Seen[], hiveId: string): Seen[] {
  return seen.filter(({ event }) => event.type === 'hive' && event.hive_id === hiveId);
}

function transitionOf(seen: readonly Seen[], hiveId: string, to: 'suspect' | 'offline'): Seen | undefined {
  return seen.find(
    ({ event }) => event.type === 'liveness' && event.kind === 'hive' && event.id === hiveId && event.to === to,
  );
}
