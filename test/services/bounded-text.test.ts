import { describe, expect, it } from 'vitest';
import { boundedText } from '../../services/bounded-text.js';

/** A body streamed in the given chunks, without a declared length. */
function streamed(chunks: Uint8Array[]): { response: Response; cancelled: () => boolean } {
  let cancelled = false;
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { response: new Response(body), cancelled: () => cancelled };
}

describe('boundedText', () => {
  it('reads a body up to the bound whole, a character split between chunks included', async () => {
    const bytes = new TextEncoder().encode('{"model_id":"模型"}');
    const { response } = streamed([bytes.slice(0, 14), bytes.slice(14)]);
    expect(await boundedText(response, bytes.byteLength)).toBe('{"model_id":"模型"}');
  });

  it('stops one chunk past the bound and cancels the rest unread', async () => {
    const chunk = new Uint8Array(1_000).fill(32);
    const { response, cancelled } = streamed([chunk, chunk, chunk, chunk]);
    expect(await boundedText(response, 1_999)).toBeNull();
    expect(cancelled()).toBe(true);
  });

  it('refuses a declared length over the bound before reading', async () => {
    const response = new Response('x'.repeat(100), { headers: { 'content-length': '100' } });
    expect(await boundedText(response, 99)).toBeNull();
    expect(await boundedText(new Response('x'.repeat(100)), 100)).toBe('x'.repeat(100));
  });
});
