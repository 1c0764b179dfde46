import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShedSocket } from '../../../services/http/connection-cap.js';
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
async function serve(limits: Partial<SocketLimits>, onShed?: (shed: ShedSocket) => void): Promise<Listening> {
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
    onShed,
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

/** Sockets the server holds open now. */
function connections(served: Listening): Promise<number> {
  return new Promise((resolve, reject) =>
    served.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
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

  it('answers a request that makes no URL with 400 and the error shape, not a bare status', async () => {
    const served = await serve({});
    const client = await connect(served.port);
    client.socket.write('GET /v1/hives HTTP/1.1\r\nHost: a b\r\n\r\n');
    await eventually(() => (client.received().includes('}') ? true : undefined), 'the answer');
    expect(client.received()).toMatch(/^HTTP\/1\.1 400 /);
    expect(client.received()).toMatch(/content-type: application\/json/i);
    const body = client.received().slice(client.received().indexOf('{'));
    expect(JSON.parse(body)).toEqual({ error: expect.stringMatching(/^Bad request: .+\.$/) });
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

  it('at max-connections closes the socket idle longest to admit a newcomer, and counts it', async () => {
    const shed: string[] = [];
    const served = await serve({ maxConnections: 2 }, (kind) => shed.push(kind));
    expect(served.maxConnections).toBe(2);
    const silent = await connect(served.port);
    const kept = await connect(served.port);
    kept.socket.write(GET('/'));
    await eventually(() => (kept.received().includes('ok') ? true : undefined), 'the first answer');
    // The silent socket has been idle longest (since it connected); the kept one only since its answer.
    const newcomer = await connect(served.port);
    newcomer.socket.write(GET('/'));
    await eventually(() => (newcomer.received().includes('ok') ? true : undefined), "the newcomer's answer");
    await eventually(() => (silent.closed() ? true : undefined), 'the silent socket closed');
    expect(silent.received()).toBe('');
    expect(shed).toEqual(['idle']);
    // The newcomer is now the one idle longest: the kept socket still works, and one more evicts the newcomer.
    kept.socket.write(GET('/'));
    await eventually(() => (kept.received().split('ok').length === 3 ? true : undefined), 'the kept socket again');
    const last = await connect(served.port);
    await eventually(() => (newcomer.closed() ? true : undefined), 'the newcomer closed for the last one');
    expect([kept.closed(), last.closed()]).toEqual([false, false]);
    expect(shed).toEqual(['idle', 'idle']);
  });

  it('at max-connections closes the newcomer at once when every socket has a request in flight', async () => {
    const shed: string[] = [];
    const served = await serve({ maxConnections: 2 }, (kind) => shed.push(kind));
    const streams = [await connect(served.port), await connect(served.port)];
    for (const stream of streams) stream.socket.write(GET('/stream'));
    await eventually(
      () => (streams.every((stream) => stream.received().includes('hi')) ? true : undefined),
      'both streams open',
    );
    const refusedAt = performance.now();
    const newcomer = await connect(served.port);
    newcomer.socket.write(GET('/'));
    await eventually(() => (newcomer.closed() ? true : undefined), 'the newcomer closed');
    expect(performance.now() - refusedAt).toBeLessThan(2_000);
    expect(newcomer.received()).toBe('');
    expect(streams.map((stream) => stream.closed())).toEqual([false, false]);
    expect(shed).toEqual(['newcomer']);
  });

  it('keeps admitting senders while a client fills the cap with silent sockets and reopens each one closed', async () => {
    const cap = 20;
    const shed: string[] = [];
    const served = await serve({ maxConnections: cap }, (kind) => shed.push(kind));
    let flooding = true;
    // Each holder reopens its socket whenever the server closes it, a few times (an endless chain would only burn CPU).
    const hold = async (): Promise<void> => {
      for (let reopen = 0; reopen < 5 && flooding; reopen++) {
        const socket = await connect(served.port);
        await eventually(() => (socket.closed() || !flooding ? true : undefined), 'a silent socket closed', 30_000);
      }
    };
    const holders = Array.from({ length: cap }, () => hold());
    await eventually(
      async () => ((await connections(served)) === cap ? true : undefined),
      'the cap full of silent sockets',
    );
    try {
      // Each request on a new connection, as a sender whose keep-alive socket was dropped.
      for (let i = 0; i < 20; i++) {
        const sender = await connect(served.port);
        sender.socket.write(GET('/'));
        await eventually(() => (sender.received().includes('ok') ? true : undefined), `request ${i} answered`);
        sender.socket.destroy();
      }
    } finally {
      flooding = false;
      await Promise.all(holders);
    }
    expect(shed.length).toBeGreaterThanOrEqual(1);
    expect(shed.filter((kind) => kind !== 'idle')).toEqual([]);
  });
});
