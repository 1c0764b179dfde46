import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { listen } from '../../../services/http/listen.js';

describe('listen', () => {
  it('serves a fetch handler on the port the OS picks, and frees it on close', async () => {
    const served = await listen(
      { fetch: (request) => Response.json({ path: new URL(request.url).pathname }) },
      '127.0.0.1',
      0,
    );
    const response = await fetch(`http://127.0.0.1:${served.port}/hello`);
    expect(await response.json()).toEqual({ path: '/hello' });
    await served.close();
    await expect(fetch(`http://127.0.0.1:${served.port}/hello`)).rejects.toThrow();
  });

  it('cuts connections still open after the grace period', async () => {
    let started: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      started = resolve;
    });
    const served = await listen(
      {
        fetch: () => {
          started();
          return new Promise<Response>(() => {});
        },
      },
      '127.0.0.1',
      0,
    );
    const hanging = fetch(`http://127.0.0.1:${served.port}/`).catch((error: unknown) => error);
    await inFlight;
    const closing = Date.now();
    await served.close(100);
    expect(Date.now() - closing).toBeLessThan(2_000);
    expect(await hanging).toBeInstanceOf(Error);
  });

  it('rejects when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      await expect(listen({ fetch: () => new Response('x') }, '127.0.0.1', port)).rejects.toThrow(/EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });
});
