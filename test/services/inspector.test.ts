import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { defined } from '../../services/defined.js';
import { type Inspector, startInspector } from '../../services/inspector.js';
import { createLogger, silentLogger } from '../../services/logger.js';
import { freePort, portAvailable } from '../../services/ports.js';

const running: Inspector[] = [];
const cleanups: (() => void)[] = [];
let handlesBefore: string[] = [];

beforeEach(() => {
  handlesBefore = tcpHandles();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await Promise.all(running.splice(0).map((inspector) => inspector.stop()));
  vi.doUnmock('@statelyai/inspect');
  vi.doUnmock('@statelyai/inspect/server');
  vi.resetModules();
  // Every test leaves no TCP server or socket behind: what a stopped role needs to exit.
  await vi.waitFor(() => expect(tcpHandles()).toEqual(handlesBefore), { timeout: 2_000, interval: 20 });
});

async function start(port: number, write: (line: string) => void = () => {}): Promise<Inspector> {
  const inspector = await startInspector(port, createLogger({ level: 'debug', write }));
  running.push(inspector);
  return inspector;
}

/** A WebSocket connection to the relay made by hand, standing for a browser tab left open. */
async function openTab(port: number): Promise<net.Socket> {
  const request = http.request({
    host: '127.0.0.1',
    port,
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-key': randomBytes(16).toString('base64'),
      'sec-websocket-version': '13',
    },
  });
  request.end();
  const [, socket]: unknown[] = await once(request, 'upgrade');
  if (!(socket instanceof net.Socket)) throw new Error('no upgraded socket');
  cleanups.push(() => socket.destroy());
  return socket;
}

/** An address of this machine other than 127.0.0.1, to show the relay is not bound to it. */
function otherLocalAddress(): string {
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((info) => info?.family === 'IPv4' && !info.internal);
  return external?.address ?? '127.0.0.2';
}

function tcpHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((name) => name.startsWith('TCP'))
    .sort();
}

describe('startInspector', () => {
  it('without a port loads nothing of the inspector and returns a no-op', async () => {
    const loaded: string[] = [];
    vi.doMock('@statelyai/inspect', () => {
      loaded.push('@statelyai/inspect');
      return {};
    });
    vi.doMock('@statelyai/inspect/server', () => {
      loaded.push('@statelyai/inspect/server');
      return {};
    });
    vi.resetModules();
    const fresh = await import('../../services/inspector.js');
    const lines: string[] = [];
    const inspector = await fresh.startInspector(
      undefined,
      createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    );
    expect(inspector.inspect).toBeUndefined();
    await expect(inspector.stop()).resolves.toBeUndefined();
    expect(loaded).toEqual([]);
    expect(lines).toEqual([]);
    // The same probe sees the library load as soon as a port is given.
    await expect(fresh.startInspector(await freePort('127.0.0.1'), silentLogger)).rejects.toThrow();
    expect(loaded.sort()).toEqual(['@statelyai/inspect', '@statelyai/inspect/server']);
  });

  it('relays the inspection events of an actor to a connected client, on loopback only', async () => {
    const port = await freePort('127.0.0.1');
    const lines: string[] = [];
    const inspector = await start(port, (line) => lines.push(line));

    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 'info', url: `http://127.0.0.1:${port}` }),
    ]);
    expect(await portAvailable(port, '127.0.0.1')).toBe(false);
    expect(await portAvailable(port, otherLocalAddress())).toBe(true);

    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('https://stately.ai/inspect');
    expect(html).toContain(`ws://localhost:${port}`);

    const seen: StatelyInspectionEvent[] = [];
    const receiver = createWebSocketReceiver({ server: `ws://127.0.0.1:${port}` });
    receiver.subscribe((event) => seen.push(event));

    const machine = createMachine({
      id: 'inspector-probe',
      initial: 'idle',
      states: { idle: { on: { GO: 'busy' } }, busy: {} },
    });
    const actor = createActor(machine, defined({ inspect: inspector.inspect }));
    actor.start();
    actor.send({ type: 'GO' });

    await vi.waitFor(
      () => {
        expect(seen).toContainEqual(expect.objectContaining({ type: '@xstate.actor', name: 'inspector-probe' }));
        expect(seen).toContainEqual(
          expect.objectContaining({ type: '@xstate.snapshot', snapshot: expect.objectContaining({ value: 'busy' }) }),
        );
      },
      { timeout: 5_000, interval: 20 },
    );
    actor.stop();
    expect(lines).toHaveLength(1);
  });

  it('stop() frees the port and closes every connection, leaving no socket behind', async () => {
    const port = await freePort('127.0.0.1');
    const inspector = await start(port);
    const tab = await openTab(port);
    const tabClosed = once(tab, 'close');
    expect(tcpHandles().length).toBeGreaterThan(handlesBefore.length);

    await inspector.stop();
    await tabClosed;
    expect(await portAvailable(port, '127.0.0.1')).toBe(true);
    expect(await portAvailable(port, '0.0.0.0')).toBe(true);
    await vi.waitFor(() => expect(tcpHandles()).toEqual(handlesBefore), { timeout: 2_000, interval: 20 });
    await expect(inspector.stop()).resolves.toBeUndefined();
  });

  it('refuses a port already in use, without taking the process down', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => blocker.close());
    const address = blocker.address();
    if (typeof address !== 'object' || address === null) throw new Error('expected a TCP address');
    await expect(startInspector(address.port, silentLogger)).rejects.toThrow(`port ${address.port} is already in use`);
  });
});
