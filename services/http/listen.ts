import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { applySocketLimits, DEFAULT_SOCKET_LIMITS, type SocketLimits, serverOptions } from './socket-limits.js';

/** Something with a Fetch API handler, e.g. a Hono app. */
export interface FetchApp {
  fetch: (request: Request, env: NodeBindings) => Response | Promise<Response>;
}

/** What a handler may reach of Node's server (`c.env`): the request, for its peer address; the response, to relay to. */
export interface NodeBindings {
  incoming?: http.IncomingMessage;
  outgoing?: http.ServerResponse;
}

export interface Listening {
  server: http.Server;
  /** The port bound: the one asked for, or the OS's pick for 0. */
  port: number;
  /** Sockets accepted at once, after the descriptor limit. */
  maxConnections: number;
  /** Stops accepting; connections still open after `graceMs` are cut. */
  close(graceMs?: number): Promise<void>;
}

/** Serves `app` on `host:port` with Node's HTTP server and socket limits; rejects when the port cannot be bound. */
export async function listen(
  app: FetchApp,
  host: string,
  port: number,
  limits: SocketLimits = DEFAULT_SOCKET_LIMITS,
): Promise<Listening> {
  const server = http.createServer(
    serverOptions(limits),
    getRequestListener((request, env) => app.fetch(request, nodeBindings(env.incoming, env.outgoing))),
  );
  applySocketLimits(server, limits);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // `[::1]`, as written in a URL and accepted by the loopback check, binds as `::1`.
    server.listen({ host: host.replace(/^\[(.*)\]$/, '$1'), port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    server,
    port: bound,
    maxConnections: server.maxConnections,
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.once('close', () => clearTimeout(timer));
      }),
  };
}

/** The HTTP/1 request and response of a served request, as a handler sees them. */
function nodeBindings(incoming: unknown, outgoing: unknown): NodeBindings {
  return {
    ...(incoming instanceof http.IncomingMessage ? { incoming } : {}),
    ...(outgoing instanceof http.ServerResponse ? { outgoing } : {}),
  };
}
