import http from 'node:http';
import type { CapabilitiesResponse } from '../../../contracts/hive-api.js';
import { capabilities, monitorData } from '../../fixtures/examples.js';

/**
 * Hive-shaped HTTP servers for discovery tests: one per loopback address (127.0.0.x), all on one port, since the
 * queen asks every host of its hives config on the same hive port. Each answers as `hosts` says at that moment.
 */
export type HiveBehaviour =
  | { kind: 'answer'; hiveId: string; token?: string }
  | { kind: 'hang' }
  | { kind: 'invalid' }
  /** Headers, then a body that never ends: chunks as fast as the reader takes them, until it goes away. */
  | { kind: 'endless' };

export interface SeenRequest {
  path: string;
  queenUrl: string | null;
  authorization: string | undefined;
}

export interface HiveServers {
  port: number;
  requests: Map<string, SeenRequest[]>;
  close(): Promise<void>;
}

export function capabilitiesOf(hiveId: string): CapabilitiesResponse {
  return { hive_id: hiveId, monitor_data: monitorData, ...capabilities };
}

export async function startHiveServers(hosts: Record<string, HiveBehaviour>, attempts = 5): Promise<HiveServers> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryStart(hosts);
    } catch (error) {
      // The port the OS gave on the first address may be taken on another: start over with a new one.
      if (attempt >= attempts || !(error instanceof Error && 'code' in error && error.code === 'EADDRINUSE'))
        throw error;
    }
  }
}

async function tryStart(hosts: Record<string, HiveBehaviour>): Promise<HiveServers> {
  const requests = new Map<string, SeenRequest[]>();
  const servers: http.Server[] = [];
  let port = 0;
  const close = async (): Promise<void> => {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
  };
  try {
    for (const host of Object.keys(hosts)) {
      requests.set(host, []);
      const server = http.createServer((request, response) => {
        // Read at each request: a test may change how a host answers.
        const behaviour = hosts[host] ?? { kind: 'hang' };
        const url = new URL(request.url ?? '/', `http://${host}`);
        requests.get(host)?.push({
          path: url.pathname,
          queenUrl: url.searchParams.get('queen_url'),
          authorization: request.headers.authorization,
        });
        if (behaviour.kind === 'hang') return;
        response.setHeader('content-type', 'application/json');
        if (behaviour.kind === 'endless') {
          const chunk = Buffer.alloc(64 * 1024, ' ');
          const more = (): void => {
            while (!response.destroyed && response.write(chunk));
          };
          response.on('drain', more);
          more();
          return;
        }
        if (behaviour.kind === 'invalid') {
          response.end(JSON.stringify({ hive_id: 'broken', devices: 'none' }));
          return;
        }
        if (behaviour.token && request.headers.authorization !== `Bearer ${behaviour.token}`) {
          response.statusCode = 401;
          response.end(JSON.stringify({ error: 'This request needs the token.' }));
          return;
        }
        response.end(JSON.stringify(capabilitiesOf(behaviour.hiveId)));
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const address = server.address();
      if (typeof address === 'object' && address !== null) port = address.port;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { port, requests, close };
}
