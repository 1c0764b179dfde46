import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HeartbeatAck, HiveHeartbeat, WorkerHeartbeat } from '../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';

/** A queen-shaped server that records every heartbeat exactly as sent, for assertions on the sequence itself. */

export type Received =
  | { kind: 'hive'; at: number; authorization: string | undefined; body: HiveHeartbeat }
  | { kind: 'worker'; at: number; authorization: string | undefined; body: WorkerHeartbeat };

export interface FakeQueen {
  url: string;
  received: Received[];
  workerHeartbeats(): WorkerHeartbeat[];
  hiveHeartbeats(): HiveHeartbeat[];
  close(): Promise<void>;
}

export async function startFakeQueen(epoch = 'fake-queen-epoch'): Promise<FakeQueen> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
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
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const { port } =
    typeof address === 'object' && address !== null ? address : ({ port: 0 } satisfies Partial<AddressInfo>);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    workerHeartbeats: () => received.flatMap((r) => (r.kind === 'worker' ? [r.body] : [])),
    hiveHeartbeats: () => received.flatMap((r) => (r.kind === 'hive' ? [r.body] : [])),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
