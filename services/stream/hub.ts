import { concatChunks, sseComment, sseMessage, sseMessagePieces } from './sse.js';

/**
 * A Server-Sent Events fan-out (docs/protocol.md: The stream). Every message gets the next revision as its id and is encoded once
 * for all clients. Each client has its own bounded queue, handed to its stream only when the stream asks for more
 * (so a slow socket holds back only its own client); a client whose queue overflows loses the queued messages and,
 * once it reads again, gets a fresh snapshot in their place (each message lost is counted). A new client's greeting
 * waits outside the queue, so however large it is, the client gets it and one snapshot. A snapshot is written in
 * pieces, at the pace its client reads, while what is published meanwhile queues behind it. A summary (a periodic
 * message that says all there is to say at its time) is queued beside the bound, and replaces a summary still queued:
 * one client holds at most the bound plus the latest summary, and a large summary never overflows it.
 */
export interface StreamHubOptions {
  /** The SSE event name of every message. */
  eventName: string;
  /** The data of a snapshot as of revision `rev`, in pieces of one JSON line. */
  snapshot: (rev: number) => AsyncIterator<string>;
  /** More data sent to a new client right after its snapshot. */
  greeting?: () => string[];
  keepAliveMs?: number;
  /** Bound on the bytes queued for one client. */
  queueBytes?: number;
  /** Told how many messages a slow client lost. */
  onDropped?: (count: number) => void;
}

export interface StreamHub {
  /** A new client: its stream starts with a snapshot. */
  connect(): ReadableStream<Uint8Array>;
  /**
   * Sends one message to every client; `data` is called once, and only when someone listens (null: skip). A
   * `summary` replaces the one still queued for a client and is not held to the queue's bound.
   */
  publish(data: () => string | null, kind?: 'message' | 'summary'): void;
  readonly revision: number;
  readonly clients: number;
  /** Ends every stream after what is queued for it; clients connecting later are served as before. */
  endAll(): void;
  /** Ends every stream after what is queued for it; a client connecting later gets an empty, ended stream. */
  closeAll(): void;
}

export const KEEP_ALIVE_MS = 15_000;
export const DEFAULT_QUEUE_BYTES = 1024 * 1024;

interface Client {
  controller: ReadableStreamDefaultController<Uint8Array>;
  queue: Uint8Array[];
  /** Bytes of the queue but its summary. */
  queuedBytes: number;
  /** Where the queued summary is in the queue, or -1. */
  summaryAt: number;
  /** The stream asked for more and got nothing yet: the next message goes straight to it. */
  waiting: boolean;
  /** Messages were dropped: a fresh snapshot goes out before anything else. */
  overflowed: boolean;
  /** The snapshot being written to this client, piece by piece. */
  snapshot: AsyncIterator<Uint8Array> | undefined;
  /** The greeting, written right after the first snapshot: outside the queue, so its size never overflows it. */
  greeting: Uint8Array[];
  /** The hub closed: the stream ends once the snapshot and the queue are out. */
  closing: boolean;
  /** The client went away. */
  gone: boolean;
}

export function createStreamHub(options: StreamHubOptions): StreamHub {
  const queueBytes = options.queueBytes ?? DEFAULT_QUEUE_BYTES;
  const clients = new Set<Client>();
  let revision = 0;
  let closed = false;

  const snapshot = (): AsyncIterator<Uint8Array> =>
    sseMessagePieces(options.eventName, revision, options.snapshot(revision));

  const deliver = (client: Client, chunk: Uint8Array, summary: boolean): number => {
    if (client.overflowed) return 1;
    if (client.waiting) {
      client.waiting = false;
      client.controller.enqueue(chunk);
      return 0;
    }
    if (summary) {
      // The later summary says all the earlier one did: the earlier one is superseded, not lost.
      if (client.summaryAt >= 0) client.queue.splice(client.summaryAt, 1);
      client.summaryAt = client.queue.push(chunk) - 1;
      return 0;
    }
    if (client.queuedBytes + chunk.byteLength > queueBytes) {
      const lost = client.queue.length + client.greeting.length + 1;
      client.queue = [];
      client.greeting = [];
      client.queuedBytes = 0;
      client.summaryAt = -1;
      client.overflowed = true;
      return lost;
    }
    client.queue.push(chunk);
    client.queuedBytes += chunk.byteLength;
    return 0;
  };

  const broadcast = (chunk: Uint8Array, counted: boolean, summary = false): void => {
    let dropped = 0;
    for (const client of clients) dropped += deliver(client, chunk, summary);
    if (counted && dropped > 0) options.onDropped?.(dropped);
  };

  const keepAlive = setInterval(() => broadcast(sseComment('keep-alive'), false), options.keepAliveMs ?? KEEP_ALIVE_MS);
  keepAlive.unref();

  // Hands the client what is queued; a closing client's stream ends after it.
  const flush = (client: Client): void => {
    try {
      if (client.queue.length > 0) client.controller.enqueue(concatChunks(client.queue));
      client.queue = [];
      client.queuedBytes = 0;
      client.summaryAt = -1;
      if (client.closing) client.controller.close();
    } catch {
      // The client went away meanwhile: nothing left to end.
    }
  };

  // Ends a client after its snapshot and queue: at once when its stream waits, else at its next read.
  const end = (client: Client): void => {
    clients.delete(client);
    client.closing = true;
    if (client.waiting) flush(client);
  };

  return {
    connect() {
      let client: Client | undefined;
      return new ReadableStream<Uint8Array>(
        {
          start(controller) {
            if (closed) {
              controller.close();
              return;
            }
            client = {
              controller,
              queue: [],
              queuedBytes: 0,
              summaryAt: -1,
              waiting: false,
              overflowed: false,
              snapshot: snapshot(),
              // The greeting's own revisions: no two messages a client sees share an id.
              greeting: (options.greeting?.() ?? []).map((data) => sseMessage(options.eventName, ++revision, data)),
              closing: false,
              gone: false,
            };
            clients.add(client);
          },
          async pull(controller) {
            if (!client) return;
            for (;;) {
              if (client.overflowed && !client.snapshot && !client.closing) {
                client.overflowed = false;
                client.snapshot = snapshot();
              }
              if (!client.snapshot) break;
              const piece = await client.snapshot.next();
              if (client.gone) return;
              if (!piece.done) return controller.enqueue(piece.value);
              client.snapshot = undefined;
            }
            if (client.greeting.length > 0) {
              controller.enqueue(concatChunks(client.greeting));
              client.greeting = [];
              return;
            }
            if (client.queue.length > 0 || client.closing) flush(client);
            else client.waiting = true;
          },
          cancel() {
            if (!client) return;
            client.gone = true;
            clients.delete(client);
            void client.snapshot?.return?.();
          },
        },
        // No buffering in the stream itself: the per-client queue above is the only one, and it is bounded.
        { highWaterMark: 0 },
      );
    },
    publish(data, kind = 'message') {
      revision++;
      if (clients.size === 0) return;
      const text = data();
      if (text !== null) broadcast(sseMessage(options.eventName, revision, text), true, kind === 'summary');
    },
    get revision() {
      return revision;
    },
    get clients() {
      return clients.size;
    },
    endAll() {
      for (const client of [...clients]) end(client);
    },
    closeAll() {
      closed = true;
      clearInterval(keepAlive);
      this.endAll();
    },
  };
}
