import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Listening, listen } from '../../../services/http/listen.js';
import { DEFAULT_SOCKET_LIMITS, type SocketLimits } from '../../../services/http/socket-limits.js';
import { eventually } from '../../support/role-process.js';

const opened: net.Socket[] = [];
const servers: Listening[] = [];
afterEach(async () => {
  for (const socket of opened.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A server whose `/stream` sends a line now and then, never ending, and whose other paths answer at once. */
async function serve(limits: Partial<SocketLimits>): Promise<Listening> {
  const served = await listen(
    {
      fetch: (request) => {
        if (new URL(request.url).pathname !== '/stream') return new Response('ok');
        return new Response(
          new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('hi\n')) }),
        );
      },
    },
    '127.0.0.1',
    0,
    { ...DEFAULT_SOCKET_LIMITS, ...limits },
  );
  servers.push(served);
  return served;
}

interface RawSocket {
  socket: net.Socket;
  /** Everything received so far. */
  received(): string;
  closed(): boolean;
}

/** A raw TCP connection: resolves once connected. */
function connect(port: number): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    opened.push(socket);
    let text = '';
    let closed = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
    });
    socket.once('connect', () => resolve({ socket, received: () => text, closed: () => closed }));
    socket.once('error', reject);
  });
}

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`;

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

  it('binds an IPv6 literal written with or without brackets', async () => {
    for (const host of ['::1', '[::1]']) {
      const served = await listen({ fetch: () => new Response('v6') }, host, 0);
      servers.push(served);
      expect(await (await fetch(`http://[::1]:${served.port}/`)).text()).toBe('v6');
    }
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

  it('closes a silent socket after the header deadline, and an idle keep-alive one after the idle timeout', async () => {
    const served = await serve({ headersTimeoutMs: 400, idleTimeoutMs: 300 });
    const silent = await connect(served.port);
    const idle = await connect(served.port);
    idle.socket.write(GET('/'));
    await eventually(() => (idle.received().includes('ok') ? true : undefined), 'the keep-alive answer');
    await eventually(() => (idle.closed() ? true : undefined), 'the idle socket closed', 5_000);
    await eventually(() => (silent.closed() ? true : undefined), 'the silent socket closed', 5_000);
  });

  it('answers 408 to headers trickling in past the deadline', async () => {
    const served = await serve({ headersTimeoutMs: 500, idleTimeoutMs: 60_000 });
    const slow = await connect(served.port);
    slow.socket.write('GET / HTTP/1.1\r\n');
    const trickle = setInterval(() => slow.socket.write('x-slow: 1\r\n'), 100);
    try {
      await eventually(() => (slow.closed() ? true : undefined), 'the slow socket closed', 5_000);
    } finally {
      clearInterval(trickle);
    }
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('keeps a stream open past the idle timeout', async () => {
    const served = await serve({ idleTimeoutMs: 300 });
    const stream = await connect(served.port);
    const idle = await connect(served.port);
    stream.socket.write(GET('/stream'));
    idle.socket.write(GET('/'));
    await eventually(() => (stream.received().includes('hi') ? true : undefined), 'the stream open');
    // Well past its idle timeout, the idle socket is gone while the stream, a request in flight, is not.
    await eventually(() => (idle.closed() ? true : undefined), 'the idle socket closed', 5_000);
    expect(stream.closed()).toBe(false);
  });

  it('at max-connections closes new sockets at once, while established ones keep working', async () => {
    const served = await serve({ maxConnections: 2 });
    expect(served.maxConnections).toBe(2);
    const first = await connect(served.port);
    const second = await connect(served.port);
    first.socket.write(GET('/'));
    await eventually(() => (first.received().includes('ok') ? true : undefined), 'the first answer');
    const refusedAt = performance.now();
    const third = await connect(served.port);
    third.socket.write(GET('/'));
    await eventually(() => (third.closed() ? true : undefined), 'the third socket closed');
    expect(performance.now() - refusedAt).toBeLessThan(2_000);
    expect(third.received()).toBe('');
    second.socket.write(GET('/'));
    await eventually(() => (second.received().includes('ok') ? true : undefined), 'the second answer');
    first.socket.write(GET('/'));
    await eventually(() => (first.received().split('ok').length === 3 ? true : undefined), 'the first socket again');
  });
});
