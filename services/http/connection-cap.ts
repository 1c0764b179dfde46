import type http from 'node:http';
import type { Socket } from 'node:net';

/** Which socket made room at the cap: an idle one, or the newcomer because every socket had a request in flight. */
export type ShedSocket = 'idle' | 'newcomer';

/**
 * Holds `server` to `max` sockets at once without letting idle ones lock newcomers out. A socket is idle from its
 * connection until its first request, and again between requests; at the cap, the socket idle longest is closed to
 * make room, so clients that open sockets and send nothing (or keep them alive after a 401) cannot keep a sender out.
 * The newcomer is closed only when every other socket has a request in flight.
 */
export function capConnections(server: http.Server, max: number, onShed?: (shed: ShedSocket) => void): void {
  // Insertion order is the order in which they became idle: the first is the one idle longest.
  const idle = new Set<Socket>();
  const inFlight = new Map<Socket, number>();
  // Counted until closed, or from the moment this closes it: its 'close' comes later, after other connections maybe.
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    idle.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      idle.delete(socket);
      inFlight.delete(socket);
    });
    if (open.size <= max) return;
    const victim = idle.values().next().value ?? socket;
    open.delete(victim);
    idle.delete(victim);
    victim.destroy();
    onShed?.(victim === socket ? 'newcomer' : 'idle');
  });
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const socket = request.socket;
    idle.delete(socket);
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    response.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      if (left > 0 || socket.destroyed) {
        if (left > 0) inFlight.set(socket, left);
        return;
      }
      inFlight.delete(socket);
      idle.add(socket);
    });
  });
}
