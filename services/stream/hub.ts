import { concatChunks, sseComment, sseMessage } from './sse.js';

/**
 * A Server-Sent Events fan-out (PROTOCOL §5.2). Every message gets the next revision as its id and is encoded once
 * for all clients. Each client has its own bounded queue, handed to its stream only when the stream asks for more
 * (so a slow socket holds back only its own client); a client whose queue overflows loses the queued messages and,
 * once it reads again, gets a fresh snapshot in their place.
 */
export interface StreamHubOptions {
  /** The SSE event name of every message. */
  eventName: string;
  /** The data of a snapshot as of revision `rev`. */
  snapshot: (rev: number) => string;
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
  /** Sends one message to every client; `data` is called once, and only when someone listens (null: skip). */
  publish(data: () => string | null): void;
  readonly revision: number;
  readonly clients: number;
  /** Ends every stream after what is queued for it; a client connecting later gets an empty, ended stream. */
  closeAll(): void;
}

export const KEEP_ALIVE_MS = 15_000;
export const DEFAULT_QUEUE_BYTES = 1024 * 1024;

interface Client {
  controller: ReadableStreamDefaultController<Uint8Array>;
  queue: Uint8Array[];
  queuedBytes: number;
  /** The stream asked for more and got nothing yet: the next message goes straight to it. */
  waiting: boolean;
  /** Messages were dropped: a fresh snapshot goes out before anything else. */
  overflowed: boolean;
}

export function createStreamHub(options: StreamHubOptions): StreamHub {
  const queueBytes = options.queueBytes ?? DEFAULT_QUEUE_BYTES;
  const clients = new Set<Client>();
  let revision = 0;
  let closed = false;
  let cached: { revision: number; chunk: Uint8Array } | undefined;

  const snapshot = (): Uint8Array => {
    if (cached?.revision !== revision) {
      cached = { revision, chunk: sseMessage(options.eventName, revision, options.snapshot(revision)) };
    }
    return cached.chunk;
  };

  const deliver = (client: Client, chunk: Uint8Array): number => {
    if (client.overflowed) return 1;
    if (client.waiting) {
      client.waiting = false;
      client.controller.enqueue(chunk);
      return 0;
    }
    if (client.queuedBytes + chunk.byteLength > queueBytes) {
      const lost = client.queue.length + 1;
      client.queue = [];
      client.queuedBytes = 0;
      client.overflowed = true;
      return lost;
    }
    client.queue.push(chunk);
    client.queuedBytes += chunk.byteLength;
    return 0;
  };

  const broadcast = (chunk: Uint8Array, counted: boolean): void => {
    let dropped = 0;
    for (const client of clients) dropped += deliver(client, chunk);
    if (counted && dropped > 0) options.onDropped?.(dropped);
  };

  const keepAlive = setInterval(() => broadcast(sseComment('keep-alive'), false), options.keepAliveMs ?? KEEP_ALIVE_MS);
  keepAlive.unref();

  const end = (client: Client): void => {
    clients.delete(client);
    try {
      if (client.queue.length > 0) client.controller.enqueue(concatChunks(client.queue));
      client.controller.close();
    } catch {
      // The client went away meanwhile: nothing left to end.
    }
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
            controller.enqueue(snapshot());
            for (const data of options.greeting?.() ?? [])
              controller.enqueue(sseMessage(options.eventName, revision, data));
            client = { controller, queue: [], queuedBytes: 0, waiting: false, overflowed: false };
            clients.add(client);
          },
          pull(controller) {
            if (!client) return;
            if (client.overflowed) {
              client.overflowed = false;
              controller.enqueue(snapshot());
            } else if (client.queue.length > 0) {
              controller.enqueue(concatChunks(client.queue));
              client.queue = [];
              client.queuedBytes = 0;
            } else {
              client.waiting = true;
            }
          },
          cancel() {
            if (client) clients.delete(client);
          },
        },
        // No buffering in the stream itself: the per-client queue above is the only one, and it is bounded.
        { highWaterMark: 0 },
      );
    },
    publish(data) {
      revision++;
      if (clients.size === 0) return;
      const text = data();
      if (text !== null) broadcast(sseMessage(options.eventName, revision, text), true);
    },
    get revision() {
      return revision;
    },
    get clients() {
      return clients.size;
    },
    closeAll() {
      closed = true;
      clearInterval(keepAlive);
      for (const client of [...clients]) end(client);
    },
  };
}
