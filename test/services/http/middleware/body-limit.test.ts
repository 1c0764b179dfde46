import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ErrorBody } from '../../../../contracts/heartbeat.js';
import { bodyLimit } from '../../../../services/http/middleware/body-limit.js';

const MAX = 1_024;

/** An app whose handler answers with the length of the body it read. */
function app() {
  const hono = new Hono();
  hono.post('/', bodyLimit(MAX), async (c) => c.json({ read: (await c.req.text()).length }));
  return hono;
}

/** A body of `bytes` bytes sent in 100-byte chunks with no Content-Length; `pulled` counts the chunks read. */
function chunked(bytes: number) {
  let sent = 0;
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulled++;
        if (sent >= bytes) return controller.close();
        const size = Math.min(100, bytes - sent);
        sent += size;
        controller.enqueue(new Uint8Array(size).fill(120));
      },
    },
    // Nothing is pulled ahead: a chunk is made only when the reader asks for it.
    { highWaterMark: 0 },
  );
  return { body, pulled: () => pulled };
}

async function tooLarge(response: Response): Promise<void> {
  expect(response.status).toBe(413);
  expect(ErrorBody.parse(await response.json()).error).toBe(`The request body is larger than ${MAX} bytes.`);
}

describe('bodyLimit', () => {
  it.each([0, 1, MAX])('lets a body of %i bytes with its Content-Length through to the handler', async (bytes) => {
    const response = await app().request('/', { method: 'POST', body: 'x'.repeat(bytes) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ read: bytes });
  });

  it('answers 413 to a Content-Length over the limit without reading a byte of the body', async () => {
    const stream = chunked(MAX + 1);
    const response = await app().request('/', {
      method: 'POST',
      body: stream.body,
      headers: { 'content-length': String(MAX + 1) },
      duplex: 'half',
    });
    await tooLarge(response);
    expect(stream.pulled()).toBe(0);
  });

  it('lets a streamed body within the limit through', async () => {
    const response = await app().request('/', { method: 'POST', body: chunked(MAX).body, duplex: 'half' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ read: MAX });
  });

  it('cuts a streamed body off once it passes the limit, before reading the rest', async () => {
    const stream = chunked(100 * MAX);
    await tooLarge(await app().request('/', { method: 'POST', body: stream.body, duplex: 'half' }));
    expect(stream.pulled()).toBeLessThan(100);
  });
});
