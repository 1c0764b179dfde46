import { describe, expect, it } from 'vitest';
import { saveScreenshot } from './browser.js';
import { dashboardSession, hiveCard, text } from './dashboard-session.js';
import { NOW, neverSeenHive, seenHive, transition, worker } from './dashboard-views.js';

const TOKEN = 't0ken';
const POLL = { timeout: 5000, interval: 50 };

const workerRow = (id: string): string => `[data-testid="worker"][data-worker-id="${id}"]`;

describe('dashboard page in Chromium', () => {
  const session = dashboardSession();

  it('shows hives, workers, liveness changes, the log and the counts, and recovers from a dropped stream', async () => {
    const { queen, base, page, pageErrors } = session;
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
    // At least the 4.2 s the queen reported; how much more depends on how busy the machine is.
    expect(Number(/^seen (\d+) s ago$/.exec(age)?.[1])).toBeGreaterThanOrEqual(4);
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
    const { queen, base, page, pageErrors } = session;
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
    await expect.poll(() => text(page, `${hiveCard('hive-000')} [data-testid="hive-cpu"]`), POLL).toBe('5 %');
    // Only the cards near the screen have built their readings; one scrolled to shows its latest.
    const built = await page.locator('[data-testid="hive-cpu"]').count();
    expect(built).toBeGreaterThan(0);
    expect(built).toBeLessThan(200);
    expect(await page.locator('[data-testid="hive-cpu"]', { hasText: /^5 %$/ }).count()).toBe(built);
    await page.locator(hiveCard('hive-199')).scrollIntoViewIfNeeded();
    await expect.poll(() => text(page, `${hiveCard('hive-199')} [data-testid="hive-cpu"]`), POLL).toBe('5 %');
    await page.locator(hiveCard('hive-000')).scrollIntoViewIfNeeded();
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
