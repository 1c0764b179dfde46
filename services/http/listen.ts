import http from 'node:http';
import { getRequestListener, RequestError } from '@hono/node-server';
import type { ShedSocket } from './connection-cap.js';
import { errorBody } from './error-body.js';
import { applySocketLimits, DEFAULT_SOCKET_LIMITS, type SocketLimits, serverOptions } from './socket-limits.js';

/** Something with a Fetch API handler, e.g. a Hono app. */
export interface FetchApp {
  fetch: (request: Request, env: NodeBindings) => Response | Promise<Response>;
  /** Tried first on each request: what it takes, the app never sees. */
  direct?: DirectRoute | undefined;
}

/** Answers a request on Node's own request and response: true when it took it. */
export type DirectRoute = (incoming: http.IncomingMessage, outgoing: http.ServerResponse) => boolean;

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
  /** Told each time a socket is closed to make room at the connection cap. */
  onShed?: (shed: ShedSocket) => void,
): Promise<Listening> {
  const listener = getRequestListener((request, env) => app.fetch(request, nodeBindings(env.incoming, env.outgoing)), {
    errorHandler: unservable,
  });
  const { direct } = app;
  const server = http.createServer(
    serverOptions(limits),
    direct === undefined
      ? listener
      : (incoming, outgoing) => {
          if (!direct(incoming, outgoing)) void listener(incoming, outgoing);
        },
  );
  const maxConnections = applySocketLimits(server, limits, onShed);
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
    maxConnections,
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

/**
 * A request that never reached the app, such as one whose `Host` makes no URL: the error shape of every answer, where
 * the adapter would send a bare status.
 */
function unservable(error: unknown): Response {
  if (error instanceof RequestError) return Response.json(errorBody(`Bad request: ${error.message}.`), { status: 400 });
  return Response.json(errorBody('The request could not be answered.'), { status: 500 });
}

/** The HTTP/1 request and response of a served request, as a handler sees them. */
function nodeBindings(incoming: unknown, outgoing: unknown): NodeBindings {
  return {
    ...(incoming instanceof http.IncomingMessage ? { incoming } : {}),
    ...(outgoing instanceof http.ServerResponse ? { outgoing } : {}),
  };
}
