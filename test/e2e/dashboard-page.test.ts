import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import type { HiveView, WorkerView } from '../../contracts/registry.js';
import { type LivenessEvent, type SnapshotEvent, STREAM_EVENT_NAME, StreamEvent } from '../../contracts/stream.js';
import { createDashboardApp } from '../../services/http/dashboard/index.js';
import { ensureDashboardClientBuilt } from '../services/http/dashboard/client-build.js';
import { launchBrowser, saveScreenshot } from './browser.js';

const TOKEN = 't0ken';
const POLL = { timeout: 5000, interval: 50 };

/** A loopback server with the real dashboard routes and a stream the test scripts event by event. */
class ScriptedQueen {
  /** The `?token=` of every stream connection and of every module request, in order. */
  readonly streamTokens: (string | null)[] = [];
  readonly moduleRequests: string[] = [];
  snapshot: SnapshotEvent = { type: 'snapshot', rev: 0, hives: [], workers: [] };
  /** While set, new stream connections wait unanswered (the page stays in its reconnecting state). */
  holdConnections = false;
  private readonly streams = new Set<ServerResponse>();
  private readonly held: (() => void)[] = [];
  private readonly dashboard = getRequestListener(createDashboardApp().fetch);
  private revision = 0;
  private readonly server: Server = createServer((request, response) => this.handle(request, response));

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port }: AddressInfo = addressOf(this.server);
    return `http://127.0.0.1:${port}`;
  }

  /** Sends one event, checked against the contract, to every open stream. */
  send(event: StreamEvent): void {
    const valid = StreamEvent.parse(event);
    for (const stream of this.streams) this.write(stream, valid);
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Cuts every stream connection the way a crashed queen or a broken network would. */
  dropStreams(): void {
    for (const stream of this.streams) stream.destroy();
  }

  release(): void {
    this.holdConnections = false;
    for (const start of this.held.splice(0)) start();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== QUEEN_PATHS.stream) {
      if (url.pathname.startsWith('/dashboard/')) this.moduleRequests.push(`${url.pathname}${url.search}`);
      void this.dashboard(request, response);
      return;
    }
    this.streamTokens.push(url.searchParams.get('token'));
    const start = (): void => this.startStream(response);
    if (this.holdConnections) this.held.push(start);
    else start();
  }

  private startStream(response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    // A short reconnection delay keeps the test fast; the browser would wait about 3 s by default.
    response.write('retry: 100\n\n');
    this.streams.add(response);
    response.on('close', () => this.streams.delete(response));
    this.write(response, StreamEvent.parse(this.snapshot));
  }

  private write(response: ServerResponse, event: StreamEvent): void {
    this.revision += 1;
    response.write(`event: ${STREAM_EVENT_NAME}\nid: ${this.revision}\ndata: ${JSON.stringify(event)}\n\n`);
  }
}

function addressOf(server: Server): AddressInfo {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server is not listening on TCP');
  return address;
}

const NOW = new Date().toISOString();

function seenHive(id: string, overrides: Partial<HiveView> = {}): HiveView {
  return {
    hive_id: id,
    liveness: 'online',
    expected: true,
    last_seen: NOW,
    last_seen_age_ms: 4200,
    clock_offset_ms: 120,
    status: 'ready',
    timestamp: NOW,
    boot_id: `${id}-boot-1`,
    hive_url: 'http://10.0.0.11:7070',
    monitor_data: {
      cpu_usage_percent: 37.5,
      ram_used_gb: 22.4,
      ram_total_gb: 64,
      uptime_seconds: 3725,
      devices: [
        { device_id: 'gpu0', vram_used_gb: 18.2, vram_total_gb: 24, temperature_celsius: 67 },
        { device_id: 'gpu1', vram_used_gb: 3.1, vram_total_gb: 24, temperature_celsius: 88 },
      ],
    },
    capabilities: {
      devices: [
        { id: 'gpu0', name: 'NVIDIA RTX 4090', device_type: 'gpu', vram_gb: 24 },
        { id: 'gpu1', name: 'NVIDIA RTX 4090', device_type: 'gpu', vram_gb: 24 },
      ],
      models: [
        { model_id: 'llama-3.1-8b-instruct-q4', size_gb: 4.9 },
        { model_id: 'qwen2.5-0.5b-instruct', size_gb: 0.4 },
      ],
      workers: [{ worker_type: 'llama.cpp', version: 'b4500' }],
    },
    capabilities_version: 3,
    ...overrides,
  };
}

function neverSeenHive(id: string): HiveView {
  return {
    hive_id: id,
    liveness: 'offline',
    expected: true,
    last_seen: null,
    last_seen_age_ms: null,
    clock_offset_ms: null,
    status: null,
    timestamp: null,
    boot_id: null,
    hive_url: null,
    monitor_data: null,
    capabilities: null,
    capabilities_version: null,
  };
}

function worker(id: string, hiveId: string, overrides: Partial<WorkerView> = {}): WorkerView {
  return {
    worker_id: id,
    hive_id: hiveId,
    timestamp: NOW,
    status: 'ready',
    model: 'llama-3.1-8b-instruct-q4',
    device: 'gpu0',
    port: 8101,
    requests_served: 42,
    uptime_seconds: 600,
    liveness: 'online',
    available: true,
    last_seen: NOW,
    last_seen_age_ms: 800,
    ...overrides,
  };
}

function transition(
  kind: LivenessEvent['kind'],
  id: string,
  from: LivenessEvent['from'],
  to: LivenessEvent['to'],
  reason: LivenessEvent['reason'],
): LivenessEvent {
  return { type: 'liveness', kind, id, from, to, reason, timestamp: new Date().toISOString() };
}

// biome-ignore lint/performance/useDomNodeTextContent: the rendered text a reader sees (hidden parts excluded) is what is checked.
const text = (page: Page, selector: string): Promise<string> => page.locator(selector).innerText();
const hiveCard = (id: string): string => `[data-testid="hive"][data-hive-id="${id}"]`;
const workerRow = (id: string): string => `[data-testid="worker"][data-worker-id="${id}"]`;

describe('dashboard page in Chromium', () => {
  let browser: Browser | undefined;
  let queen: ScriptedQueen;
  let base: string;
  let page: Page;
  const pageErrors: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    ensureDashboardClientBuilt();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    if (!browser) throw new Error('Chromium did not start');
    queen = new ScriptedQueen();
    base = await queen.listen();
    cleanups.push(() => queen.close());
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    cleanups.push(() => page.close());
    pageErrors.length = 0;
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // The stream this test cuts on purpose is reported as a failed resource load; anything else counts.
      const droppedStream = message.text().startsWith('Failed to load resource: net::ERR_INCOMPLETE_CHUNKED_ENCODING');
      if ((message.type() === 'error' || message.type() === 'warning') && !droppedStream)
        pageErrors.push(message.text());
    });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('shows hives, workers, liveness changes, the log and the counts, and recovers from a dropped stream', async () => {
    queen.snapshot = {
      type: 'snapshot',
      rev: 1,
      hives: [seenHive('gpu-node-a', { clock_offset_ms: 3500 }), neverSeenHive('gpu-node-b')],
      workers: [worker('gpu-node-a-w1', 'gpu-node-a')],
    };
    await page.goto(`${base}/?token=${TOKEN}`);

    // The snapshot: both hives, the expected-but-never-seen one too, and the worker.
    await expect.poll(() => page.locator('[data-testid="hive"]').count(), POLL).toBe(2);
    await expect.poll(() => text(page, '[data-testid="connection"]'), POLL).toContain('live');
    const a = hiveCard('gpu-node-a');
    const b = hiveCard('gpu-node-b');
    expect(await text(page, `${a} [data-testid="hive-liveness"]`)).toBe('online');
    expect(await page.getAttribute(a, 'data-liveness')).toBe('online');
    expect(await text(page, `${b} [data-testid="hive-liveness"]`)).toBe('offline');
    expect(await text(page, `${b} [data-testid="hive-age"]`)).toBe('never seen');
    expect(await text(page, b)).toContain('no heartbeat yet');
    expect(await text(page, `${a} [data-testid="hive-cpu"]`)).toBe('38 %');
    expect(await text(page, `${a} [data-testid="hive-ram"]`)).toBe('22 GB / 64 GB');
    expect(await page.locator(`${a} [data-testid="device"]`).count()).toBe(2);
    expect(await text(page, `${a} [data-device-id="gpu0"]`)).toContain('NVIDIA RTX 4090');
    expect(await text(page, `${a} [data-device-id="gpu0"] [data-testid="device-vram"]`)).toBe('18 GB / 24 GB');
    expect(await text(page, `${a} [data-device-id="gpu1"] [data-testid="device-temperature"]`)).toBe('88 °C');
    expect(await page.getAttribute(`${a} [data-device-id="gpu1"] .meter:last-child`, 'data-level')).toBe('critical');
    expect(await text(page, `${a} [data-testid="hive-models"]`)).toBe(
      'llama-3.1-8b-instruct-q4, qwen2.5-0.5b-instruct',
    );
    expect(await text(page, `${a} [data-testid="hive-worker-types"]`)).toBe('llama.cpp b4500');
    expect(await text(page, `${a} [data-testid="hive-clock-skew"]`)).toBe('clock skew +3.5 s');
    const w1 = `${a} ${workerRow('gpu-node-a-w1')}`;
    expect(await text(page, `${w1} [data-testid="worker-status"]`)).toBe('ready');
    expect(await text(page, `${w1} [data-testid="worker-model"]`)).toBe('llama-3.1-8b-instruct-q4');
    expect(await text(page, `${w1} [data-testid="worker-device"]`)).toBe('gpu0');
    expect(await text(page, `${w1} [data-testid="worker-requests"]`)).toBe('42');
    expect(await text(page, '[data-testid="hives-online"]')).toBe('1');

    // The last-seen age ticks on its own, from the age the queen reported.
    const age = await text(page, `${a} [data-testid="hive-age"]`);
    expect(age).toMatch(/^seen [4-6] s ago$/);
    await expect.poll(() => text(page, `${a} [data-testid="hive-age"]`), POLL).not.toBe(age);

    const cardA = await page.locator(a).elementHandle();
    queen.send({
      type: 'queen',
      queen_epoch: 'epoch-1',
      workers_online: 1,
      workers_available: 1,
      hives_online: 1,
      hives_available: 1,
      hives_expected: 2,
      worker_ids: ['gpu-node-a-w1'],
      hive_ids: ['gpu-node-a'],
      timestamp: NOW,
    });
    await expect.poll(() => text(page, '[data-testid="queen-epoch"]'), POLL).toBe('queen epoch-1');
    expect(await text(page, '[data-testid="hives-expected"]')).toBe('2');
    expect(await text(page, '[data-testid="workers-online"]')).toBe('1');
    expect(await text(page, '[data-testid="workers-available"]')).toBe('1');

    // A hive heartbeat and a worker heartbeat update the card in place.
    const busy = seenHive('gpu-node-a', { last_seen_age_ms: 0 });
    if (busy.monitor_data) busy.monitor_data.cpu_usage_percent = 81;
    queen.send({ type: 'hive', ...busy });
    queen.send({ type: 'worker', ...worker('gpu-node-a-w1', 'gpu-node-a', { status: 'busy', requests_served: 43 }) });
    await expect.poll(() => text(page, `${a} [data-testid="hive-cpu"]`), POLL).toBe('81 %');
    expect(await text(page, `${w1} [data-testid="worker-requests"]`)).toBe('43');
    expect(await text(page, `${w1} [data-testid="worker-status"]`)).toBe('busy');
    expect(await text(page, `${a} [data-testid="hive-age"]`)).toMatch(/^seen [01] s ago$/);

    // Liveness transitions: text, attribute and log.
    queen.send(transition('hive', 'gpu-node-a', 'online', 'suspect', 'missed heartbeats'));
    await expect.poll(() => text(page, `${a} [data-testid="hive-liveness"]`), POLL).toBe('suspect');
    expect(await page.getAttribute(a, 'data-liveness')).toBe('suspect');
    expect(await text(page, '[data-testid="hives-suspect"]')).toBe('1');
    expect(await page.locator('[data-testid="log-entry"]').allInnerTexts()).toEqual([
      expect.stringMatching(/hive gpu-node-a online → suspect \(missed heartbeats\)$/),
    ]);

    queen.send(transition('hive', 'gpu-node-a', 'suspect', 'offline', 'missed heartbeats'));
    queen.send(transition('worker', 'gpu-node-a-w1', 'online', 'offline', 'hive offline'));
    await expect.poll(() => text(page, `${a} [data-testid="hive-liveness"]`), POLL).toBe('offline');
    expect(await text(page, `${w1} [data-testid="worker-liveness"]`)).toBe('offline');
    expect(await page.locator('[data-testid="log-entry"]').allInnerTexts()).toEqual([
      expect.stringMatching(/worker gpu-node-a-w1 online → offline \(hive offline\)$/),
      expect.stringMatching(/hive gpu-node-a suspect → offline \(missed heartbeats\)$/),
      expect.stringMatching(/hive gpu-node-a online → suspect \(missed heartbeats\)$/),
    ]);

    // The filter narrows the grid without touching the data.
    await page.fill('[data-testid="filter"]', 'qwen');
    expect(await page.locator(`${b}`).isHidden()).toBe(true);
    expect(await page.locator(a).isVisible()).toBe(true);
    await page.fill('[data-testid="filter"]', '');
    expect(await page.locator(b).isVisible()).toBe(true);

    // The stream drops; the page says so, reconnects by itself and rebuilds from the fresh snapshot.
    queen.snapshot = {
      type: 'snapshot',
      rev: 9,
      hives: [
        seenHive('gpu-node-a', { last_seen_age_ms: 300 }),
        seenHive('gpu-node-b', { last_seen_age_ms: 700, hive_url: 'http://10.0.0.12:7070' }),
      ],
      workers: [
        worker('gpu-node-a-w1', 'gpu-node-a', { requests_served: 50 }),
        worker('gpu-node-b-w1', 'gpu-node-b', { model: 'qwen2.5-0.5b-instruct', device: 'gpu1', status: 'starting' }),
      ],
    };
    queen.holdConnections = true;
    queen.dropStreams();
    await expect.poll(() => text(page, '[data-testid="connection"]'), POLL).toContain('reconnecting');
    await expect.poll(() => queen.streamTokens.length, POLL).toBeGreaterThanOrEqual(2);
    queen.release();
    await expect.poll(() => text(page, `${b} [data-testid="hive-liveness"]`), POLL).toBe('online');
    expect(await text(page, '[data-testid="connection"]')).toContain('live');
    expect(await text(page, `${a} [data-testid="hive-liveness"]`)).toBe('online');
    expect(await text(page, `${w1} [data-testid="worker-requests"]`)).toBe('50');
    expect(await text(page, `${b} ${workerRow('gpu-node-b-w1')} [data-testid="worker-status"]`)).toBe('starting');
    expect(await text(page, '[data-testid="hives-online"]')).toBe('2');
    expect(await text(page, '[data-testid="hives-offline"]')).toBe('0');
    expect(await page.locator('[data-testid="log-entry"]').count()).toBe(3);

    // Keyed in place: the same card element survived every event and the new snapshot.
    expect(await cardA?.evaluate((card) => card.isConnected && card.getAttribute('data-hive-id'))).toBe('gpu-node-a');
    expect(queen.streamTokens.every((token) => token === TOKEN)).toBe(true);
    expect(queen.moduleRequests).toContain(`/dashboard/app.js?token=${TOKEN}`);
    expect(queen.moduleRequests).toContain(`/dashboard/store.js?token=${TOKEN}`);
    expect(queen.moduleRequests.every((request) => request.endsWith(`?token=${TOKEN}`))).toBe(true);
    expect(pageErrors).toEqual([]);

    queen.send(transition('hive', 'gpu-node-b', 'online', 'suspect', 'missed heartbeats'));
    await expect.poll(() => page.locator('[data-testid="log-entry"]').count(), POLL).toBe(4);
    await saveScreenshot(page, 'dashboard');
  });

  it('renders 200 hives and updates them in place', async () => {
    const ids = Array.from({ length: 200 }, (_, index) => `hive-${String(index).padStart(3, '0')}`);
    queen.snapshot = {
      type: 'snapshot',
      rev: 1,
      hives: ids.map((id) => seenHive(id)),
      workers: ids.map((id) => worker(`${id}-w1`, id)),
    };
    await page.goto(base);
    await expect.poll(() => page.locator('[data-testid="hive"]').count(), POLL).toBe(200);
    expect(await page.locator('[data-testid="hive"]').first().getAttribute('data-hive-id')).toBe('hive-000');
    expect(await page.locator('[data-testid="hive"]').last().getAttribute('data-hive-id')).toBe('hive-199');
    const first = await page.locator(hiveCard('hive-000')).elementHandle();

    for (const id of ids) {
      const hive = seenHive(id, { last_seen_age_ms: 0 });
      if (hive.monitor_data) hive.monitor_data.cpu_usage_percent = 5;
      queen.send({ type: 'hive', ...hive });
    }
    await expect.poll(() => text(page, `${hiveCard('hive-199')} [data-testid="hive-cpu"]`), POLL).toBe('5 %');
    expect(await page.locator('[data-testid="hive-cpu"]', { hasText: /^5 %$/ }).count()).toBe(200);
    expect(await page.locator('[data-testid="hive"]').count()).toBe(200);
    expect(await first?.evaluate((card) => card.isConnected)).toBe(true);

    // "Only hives not online" hides the healthy ones and follows liveness changes.
    await page.check('[data-testid="problems-only"]');
    await expect.poll(() => page.locator('[data-testid="hive"]:visible').count(), POLL).toBe(0);
    queen.send(transition('hive', 'hive-123', 'online', 'suspect', 'missed heartbeats'));
    await expect.poll(() => page.locator('[data-testid="hive"]:visible').count(), POLL).toBe(1);
    expect(await page.locator(hiveCard('hive-123')).isVisible()).toBe(true);
    expect(queen.streamTokens).toEqual([null]);
    expect(pageErrors).toEqual([]);
  });
});
