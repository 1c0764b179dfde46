import { createServer } from 'node:http';
import { type HeartbeatAck, HiveHeartbeat, WorkerHeartbeat } from '../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { type LoopbackServer, listenOnLoopback, onBody } from './loopback-server.js';

/** A queen-shaped server that records every heartbeat exactly as sent, for assertions on the sequence itself. */

export type Received =
  | { kind: 'hive'; at: number; authorization: string | undefined; body: HiveHeartbeat }
  | { kind: 'worker'; at: number; authorization: string | undefined; body: WorkerHeartbeat };

/** Closed when the test that started it finishes. */
export interface FakeQueen extends LoopbackServer {
  received: Received[];
  workerHeartbeats(): WorkerHeartbeat[];
  hiveHeartbeats(): HiveHeartbeat[];
}

export async function startFakeQueen(epoch = 'fake-queen-epoch'): Promise<FakeQueen> {
  const received: Received[] = [];
  const server = createServer((req, res) =>
    onBody(req, (text) => {
      const common = { at: Date.now(), authorization: req.headers.authorization };
      try {
        if (req.method === 'POST' && req.url === QUEEN_PATHS.workerHeartbeat) {
          received.push({ kind: 'worker', ...common, body: WorkerHeartbeat.parse(JSON.parse(text)) });
        } else if (req.method === 'POST' && req.url === QUEEN_PATHS.hiveHeartbeat) {
          received.push({ kind: 'hive', ...common, body: HiveHeartbeat.parse(JSON.parse(text)) });
        } else {
          res.writeHead(404).end();
          return;
        }
      } catch (error) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) }));
        return;
      }
      const ack: HeartbeatAck = { status: 'ok', queen_epoch: epoch, resync: false };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ack));
    }),
  );
  return {
    ...(await listenOnLoopback(server)),
    received,
    workerHeartbeats: () => received.flatMap((r) => (r.kind === 'worker' ? [r.body] : [])),
    hiveHeartbeats: () => received.flatMap((r) => (r.kind === 'hive' ? [r.body] : [])),
  };
}
