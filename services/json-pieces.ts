/**
 * Large JSON documents written in pieces: no one string of the whole (V8 caps a string's length), and a yield to the
 * event loop after every `sliceMs` of work, so heartbeats keep being read while a big view goes out.
 */

/** Literal JSON text, or an array whose items are serialized one by one as they are reached. */
export type JsonPart = string | { array: Iterable<unknown> };

export interface JsonPiecesOptions {
  /** Work between two yields to the event loop. */
  sliceMs?: number;
  /** A piece is handed out once it is at least this long, or at the end of a slice. */
  pieceChars?: number;
}

export const JSON_SLICE_MS = 5;
export const JSON_PIECE_CHARS = 16 * 1024;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The parts' JSON, concatenated, in pieces. */
export async function* jsonPieces(parts: readonly JsonPart[], options: JsonPiecesOptions = {}): AsyncGenerator<string> {
  const sliceMs = options.sliceMs ?? JSON_SLICE_MS;
  const pieceChars = options.pieceChars ?? JSON_PIECE_CHARS;
  let buffered: string[] = [];
  let length = 0;
  let sliceStart = performance.now();
  const take = (): string => {
    const piece = buffered.join('');
    buffered = [];
    length = 0;
    return piece;
  };
  for (const part of parts) {
    if (typeof part === 'string') {
      buffered.push(part);
      length += part.length;
      continue;
    }
    buffered.push('[');
    let first = true;
    for (const item of part.array) {
      const text = `${first ? '' : ','}${JSON.stringify(item)}`;
      first = false;
      buffered.push(text);
      length += text.length;
      if (length >= pieceChars) yield take();
      if (performance.now() - sliceStart >= sliceMs) {
        if (length > 0) yield take();
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
    buffered.push(']');
    length += 1;
  }
  if (length > 0) yield take();
}

const encoder = new TextEncoder();

/** Pieces of text as a byte stream that produces the next piece only when the reader asks for it. */
export function byteStream(pieces: AsyncIterator<string>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await pieces.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await pieces.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
