/** Reads Server-Sent Events from a response body, message by message, for stream tests. */
export interface SseMessage {
  event: string | undefined;
  id: number | undefined;
  /** Parsed JSON of the data line; undefined for a comment. */
  data: unknown;
  comment: string | undefined;
}

export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';

  constructor(body: ReadableStream<Uint8Array> | null) {
    if (!body) throw new Error('the response has no body');
    this.reader = body.getReader();
  }

  /** The next message; undefined once the stream ended. */
  async next(): Promise<SseMessage | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        return parse(block);
      }
      const { done, value } = await this.reader.read();
      if (done) return undefined;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** The next `count` messages that are not comments. */
  async take(count: number): Promise<SseMessage[]> {
    const messages: SseMessage[] = [];
    while (messages.length < count) {
      const message = await this.next();
      if (!message) throw new Error(`the stream ended after ${messages.length} of ${count} messages`);
      if (message.comment === undefined) messages.push(message);
    }
    return messages;
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

function parse(block: string): SseMessage {
  const message: SseMessage = { event: undefined, id: undefined, data: undefined, comment: undefined };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) message.comment = line.slice(1).trim();
    else if (line.startsWith('event: ')) message.event = line.slice(7);
    else if (line.startsWith('id: ')) message.id = Number(line.slice(4));
    else if (line.startsWith('data: ')) message.data = JSON.parse(line.slice(6));
  }
  return message;
}
