import type { HiveEvent, LivenessEvent, WorkerEvent } from '../../contracts/stream.js';
import { STREAM_EVENT_NAME } from '../../contracts/stream.js';
import type { RegistryChange, RegistryKind } from '../../machines/registry-changes.js';
import { defined } from '../defined.js';
import { jsonPieces } from '../json-pieces.js';
import type { QueenRegistry } from '../queen/registry.js';
import { hiveView, queenEvent, snapshotParts, workerView } from '../queen/views.js';
import { createStreamHub, type StreamHub, type StreamHubOptions } from './hub.js';

/**
 * The queen's live stream (docs/protocol.md: The stream): a snapshot first, the queen's own event at once and every interval, a
 * `hive`/`worker` event per accepted heartbeat and a `liveness` event per transition, fed by the registries.
 */
export interface QueenStreamOptions extends Pick<StreamHubOptions, 'keepAliveMs' | 'queueBytes' | 'onDropped'> {
  registry: QueenRegistry;
  queenEpoch: string;
  /** Period of the `queen` event. */
  intervalMs: number;
}

export type QueenStream = Pick<StreamHub, 'connect' | 'endAll' | 'closeAll' | 'clients' | 'revision'>;

export function createQueenStream(options: QueenStreamOptions): QueenStream {
  const { registry, queenEpoch } = options;
  const queen = (): string => JSON.stringify(queenEvent(registry, queenEpoch));
  const hub = createStreamHub({
    eventName: STREAM_EVENT_NAME,
    snapshot: (rev) => jsonPieces(snapshotParts(registry, rev)),
    greeting: () => [queen()],
    ...defined({ keepAliveMs: options.keepAliveMs, queueBytes: options.queueBytes, onDropped: options.onDropped }),
  });

  const entryData = (kind: RegistryKind, id: string): string | null => {
    const now = registry.clock.now();
    if (kind === 'hive') {
      const entry = registry.hives.get(id);
      return entry ? JSON.stringify({ type: 'hive', ...hiveView(entry, now) } satisfies HiveEvent) : null;
    }
    const entry = registry.workers.get(id);
    return entry ? JSON.stringify({ type: 'worker', ...workerView(entry, now) } satisfies WorkerEvent) : null;
  };

  const unsubscribe = registry.onChanges((kind, changes: readonly RegistryChange[]) => {
    for (const change of changes) {
      if (change.type === 'entry') {
        hub.publish(() => entryData(kind, change.id));
        continue;
      }
      if (change.type !== 'liveness') continue;
      hub.publish(() =>
        JSON.stringify({
          type: 'liveness',
          kind,
          id: change.id,
          from: change.from,
          to: change.to,
          reason: change.reason,
          timestamp: new Date(change.at).toISOString(),
        } satisfies LivenessEvent),
      );
    }
  });

  // It gives every count and online id as of now: a later one supersedes one a slow client has not read yet.
  const ticker = setInterval(() => hub.publish(queen, 'summary'), options.intervalMs);
  ticker.unref();

  return {
    connect: () => hub.connect(),
    endAll: () => hub.endAll(),
    get clients() {
      return hub.clients;
    },
    get revision() {
      return hub.revision;
    },
    closeAll() {
      clearInterval(ticker);
      unsubscribe();
      hub.closeAll();
    },
  };
}
