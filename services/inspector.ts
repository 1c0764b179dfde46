import diagnostics from 'node:diagnostics_channel';
import { once } from 'node:events';
import net from 'node:net';
import type { InspectionEvent } from 'xstate';
import type { Logger } from './logger.js';
import { portAvailable } from './ports.js';
import { runOnce } from './run-once.js';

/**
 * `--inspect[=PORT]` (docs/protocol.md: Inspection): the Stately Inspector relay of `@statelyai/inspect` on loopback, and the
 * WebSocket inspector that feeds it every actor of the role. Nothing of the library is loaded without a port.
 *
 * The library's relay has no host option and no way to close its clients, so this module contains it:
 * - its HTTP server is caught as it calls `listen` (the `net.server.listen` diagnostics channel) and given the
 *   loopback host, then checked to be on loopback;
 * - every connection to it is tracked and destroyed on stop (ws 8 leaves open sockets open on close), so a
 *   browser tab left on the inspector page cannot keep the role alive;
 * - the in-process client is started only once the relay listens, and `startInspector` returns only after it
 *   connected: that client retries every 5 s after an error, even after being stopped.
 */

export interface Inspector {
  /** For `createActor(logic, { inspect })`; undefined when inspection is off. */
  inspect: ((event: InspectionEvent) => void) | undefined;
  /** Closes the relay, its connections and the client; the port is free when it resolves. */
  stop(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
/** How long the relay may take to accept the in-process client before start-up gives up. */
const CONNECT_TIMEOUT_MS = 5_000;
const LISTEN_CHANNEL = 'tracing:net.server.listen:asyncStart';

export async function startInspector(port: number | undefined, logger: Logger): Promise<Inspector> {
  if (port === undefined) return { inspect: undefined, stop: async () => {} };
  // A busy port would make the library's server emit an 'error' nobody handles, which ends the process.
  if (!(await portAvailable(port, LOOPBACK))) {
    throw new Error(`the inspector port ${port} is already in use on ${LOOPBACK}`);
  }
  const [{ createInspectorServer }, { createWebSocketInspector }] = await Promise.all([
    import('@statelyai/inspect/server'),
    import('@statelyai/inspect'),
  ]);

  const { result: relay, server } = listeningOnLoopback(port, () => createInspectorServer({ port, autoOpen: false }));
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const closed = new Promise((resolve) => server.once('close', resolve));
  const client = createWebSocketInspector({ url: `ws://${LOOPBACK}:${port}`, autoStart: false });

  const stop = runOnce(async (): Promise<void> => {
    client.stop();
    relay.stop();
    for (const socket of sockets) socket.destroy();
    await closed;
  });

  try {
    if (!server.listening) await once(server, 'listening', { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) });
    const address = server.address();
    if (typeof address !== 'object' || address === null || address.address !== LOOPBACK) {
      throw new Error(`the inspector relay listens on ${JSON.stringify(address)}, not on ${LOOPBACK} only`);
    }
    const upgraded = once(server, 'upgrade', { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) });
    client.start();
    await upgraded;
    // The relay answered the client's upgrade in this turn; the client reads that answer in the next poll phase.
    await nextTurn();
    await nextTurn();
  } catch (error) {
    await stop();
    throw error;
  }

  logger.info('open the Stately Inspector in a browser (it loads https://stately.ai/inspect)', {
    url: `http://${LOOPBACK}:${port}`,
  });
  return { inspect: (event) => client.inspect.next?.(event), stop };
}

/**
 * Runs `create`, which must start exactly one TCP server listening on `port`, and makes that listen bind
 * loopback only: the server is caught on the listen channel, whose options Node reads after publishing them.
 */
function listeningOnLoopback<T extends { stop(): void }>(
  port: number,
  create: () => T,
): { result: T; server: net.Server } {
  let server: net.Server | undefined;
  const onListen = (message: unknown): void => {
    if (typeof message !== 'object' || message === null || !('server' in message) || !('options' in message)) return;
    const { options } = message;
    if (!(message.server instanceof net.Server) || typeof options !== 'object' || options === null) return;
    if (!('port' in options) || Number(options.port) !== port) return;
    server = message.server;
    Reflect.set(options, 'host', LOOPBACK);
  };
  diagnostics.subscribe(LISTEN_CHANNEL, onListen);
  try {
    const result = create();
    if (!server) {
      result.stop();
      throw new Error(`the inspector relay could not be held to ${LOOPBACK}: its listen was not seen`);
    }
    return { result, server };
  } finally {
    diagnostics.unsubscribe(LISTEN_CHANNEL, onListen);
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
