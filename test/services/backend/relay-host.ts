import { createServer } from 'node:http';
import { WORKER_PATHS } from '../../../contracts/paths.js';
import type { RelayingBackend, RelayOutcome } from '../../../services/backend/backend.js';
import { type LoopbackServer, listenOnLoopback, onBody } from '../../support/loopback-server.js';

export interface RelayHost extends LoopbackServer {
  /** How each relayed request ended, in the order they ended. */
  outcomes: RelayOutcome[];
}

/** A loopback server handing every request to `backend.relay` with its Node response, as the worker does. */
export async function startRelayHost(backend: RelayingBackend): Promise<RelayHost> {
  const outcomes: RelayOutcome[] = [];
  const server = createServer((req, res) =>
    onBody(req, (body) => {
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      const header = (name: string): string | undefined => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      };
      const path = req.url === WORKER_PATHS.completions ? WORKER_PATHS.completions : WORKER_PATHS.chatCompletions;
      void backend.relay({ path, body, header, signal: gone.signal }, res).then((outcome) => outcomes.push(outcome));
    }),
  );
  return { ...(await listenOnLoopback(server)), outcomes };
}
