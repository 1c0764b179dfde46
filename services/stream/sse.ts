/** The Server-Sent Events wire format (docs/protocol.md: The stream), encoded once and shared by every client. */

const encoder = new TextEncoder();

/** One message; `data` is one line of JSON (JSON.stringify never emits a raw newline). */
export function sseMessage(event: string, id: number, data: string): Uint8Array {
  return encoder.encode(`event: ${event}\nid: ${id}\ndata: ${data}\n\n`);
}

/** One message whose data comes in pieces of one JSON line, encoded piece by piece. */
export async function* sseMessagePieces(
  event: string,
  id: number,
  data: AsyncIterator<string>,
): AsyncGenerator<Uint8Array> {
  yield encoder.encode(`event: ${event}\nid: ${id}\ndata: `);
  for (let piece = await data.next(); !piece.done; piece = await data.next()) yield encoder.encode(piece.value);
  yield encoder.encode('\n\n');
}

/** A comment line: ignored by EventSource, keeps proxies and idle connections open. */
export function sseComment(text: string): Uint8Array {
  return encoder.encode(`: ${text}\n\n`);
}

/** Several messages as one chunk: one write to the socket instead of many. */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  let length = 0;
  for (const chunk of chunks) length += chunk.byteLength;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}
