import http from 'node:http';

/**
 * A Server-Sent Events client for benchmarks: every message's data with the moment its last byte arrived
 * (`performance.now()`). Framing scans each chunk once, so a snapshot of tens of MB costs linear time.
 */
export interface StreamMessage {
  /** The `data:` line; empty for a comment. */
  data: string;
  receivedAt: number;
  bytes: number;
}

export interface OpenStream {
  close(): void;
  /** Settles when the connection ends, for whatever reason. */
  ended: Promise<void>;
}

const NEWLINE = 0x0a;
const DATA_PREFIX = Buffer.from('\ndata: ');

export function openStream(url: string, onMessage: (message: StreamMessage) => void): Promise<OpenStream> {
  return new Promise<OpenStream>((resolve, reject) => {
    let ended: () => void = () => {};
    const endedPromise = new Promise<void>((resolveEnded) => {
      ended = resolveEnded;
    });
    const request = http.get(url, { headers: { accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`GET ${url} answered ${response.statusCode}`));
        return;
      }
      let pending: Buffer[] = [];
      let endsWithNewline = false;
      const emit = (block: Buffer): void => {
        const at = block.indexOf(DATA_PREFIX);
        const data = at === -1 ? '' : block.subarray(at + DATA_PREFIX.length).toString('utf8');
        onMessage({ data, receivedAt: performance.now(), bytes: block.byteLength });
      };
      response.on('data', (chunk: Buffer) => {
        let start = 0;
        if (endsWithNewline && chunk[0] === NEWLINE) {
          const joined = Buffer.concat(pending);
          emit(joined.subarray(0, joined.byteLength - 1));
          pending = [];
          start = 1;
        }
        for (let end = chunk.indexOf('\n\n', start); end !== -1; end = chunk.indexOf('\n\n', start)) {
          pending.push(chunk.subarray(start, end));
          emit(pending.length === 1 && pending[0] ? pending[0] : Buffer.concat(pending));
          pending = [];
          start = end + 2;
        }
        if (start < chunk.byteLength) pending.push(chunk.subarray(start));
        endsWithNewline = chunk.byteLength > start && chunk[chunk.byteLength - 1] === NEWLINE;
      });
      response.on('close', () => ended());
      resolve({ close: () => request.destroy(), ended: endedPromise });
    });
    request.on('error', (error) => {
      ended();
      reject(error);
    });
    request.on('close', () => ended());
  });
}

/** Opens a stream, waits (bounded) for its first message, and closes it: the time to the first byte-complete message. */
export async function firstMessage(url: string, timeoutMs: number): Promise<StreamMessage & { elapsedMs: number }> {
  const start = performance.now();
  let settle: (message: StreamMessage) => void = () => {};
  const first = new Promise<StreamMessage>((resolve) => {
    settle = resolve;
  });
  const stream = await openStream(url, (message) => settle(message));
  let timer: NodeJS.Timeout | undefined;
  try {
    const message = await Promise.race([
      first,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no stream message within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ...message, elapsedMs: message.receivedAt - start };
  } finally {
    clearTimeout(timer);
    stream.close();
  }
}
