import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll } from '../support/role-process.js';
import { launchBrowser, saveScreenshot } from './browser.js';
import { crashHive, createHiveDirs, killHiveGroups, startHive, startQueen } from './cluster-roles.js';
import { spawnWorker } from './hive-api.js';

/** The dashboard of a real cluster in Chromium: a hive and its worker appear, the hive crashes and comes back. */

const TOKEN = 'dashboard-e2e-token';
/** Long enough for offline-after plus the page's reaction, short enough to fail fast. */
const POLL = { timeout: 4_000, interval: 50 };

let root = '';
let browser: Browser | undefined;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'apiary-e2e-dashboard-'));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  killHiveGroups();
  killAll();
});

// biome-ignore lint/performance/useDomNodeTextContent: the rendered text a reader sees (hidden parts excluded) is what is checked.
const text = (page: Page, selector: string): Promise<string> => page.locator(selector).innerText();

// Real processes and Chromium on a shared 2-core machine can take longer than the default 20 s bound.
describe('dashboard of a running cluster', { timeout: 60_000 }, () => {
  it('shows the hive and its worker, the hive turning suspect then offline after kill -9, and back online', async () => {
    if (!browser) throw new Error('Chromium did not start');
    const hiveId = 'gpu-box-1';
    const dirs = createHiveDirs(root, hiveId);
    const queen = await startQueen(['--token', TOKEN]);
    const hiveArgs = ['--queen-url', queen.url, '--token', TOKEN];
    const hive = await startHive(hiveId, dirs, hiveArgs);
    const worker = await spawnWorker(hive.url, 'tiny', TOKEN);

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    cleanups.push(() => page.close());
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    await page.goto(`${queen.url}/?token=${TOKEN}`);

    const card = `[data-testid="hive"][data-hive-id="${hiveId}"]`;
    const row = `${card} [data-testid="worker"][data-worker-id="${worker.worker_id}"]`;
    const liveness = (): Promise<string | null> => page.getAttribute(card, 'data-liveness');
    await expect.poll(() => text(page, '[data-testid="connection"]'), POLL).toContain('live');
    await expect.poll(liveness, POLL).toBe('online');
    await expect.poll(() => text(page, `${row} [data-testid="worker-status"]`), POLL).toBe('ready');
    // Something a reader can see: the card with its name, its model and the worker's, not just attributes.
    expect(await page.locator(card).isVisible()).toBe(true);
    expect(await text(page, card)).toContain(hiveId);
    expect(await text(page, `${card} [data-testid="hive-liveness"]`)).toBe('online');
    expect(await text(page, `${card} [data-testid="hive-models"]`)).toBe('tiny');
    expect(await text(page, `${row} [data-testid="worker-model"]`)).toBe('tiny');
    await expect.poll(() => text(page, '[data-testid="hives-online"]'), POLL).toBe('1');
    await expect.poll(() => text(page, '[data-testid="workers-available"]'), POLL).toBe('1');
    // The CPU sparkline is drawn from the queen's history (its metrics route, with the token) and the stream.
    const cpuPoints = async (): Promise<number> =>
      Number(await page.getAttribute(`${card} [data-testid="hive-cpu-trend"]`, 'data-points'));
    await expect.poll(cpuPoints, POLL).toBeGreaterThanOrEqual(1);
    expect(await page.getAttribute(card, 'data-stale')).toBe('false');

    await crashHive(hive);
    await expect.poll(liveness, POLL).toBe('suspect');
    expect(await text(page, `${card} [data-testid="hive-liveness"]`)).toBe('suspect');
    await expect.poll(liveness, POLL).toBe('offline');
    await expect.poll(() => text(page, `${row} [data-testid="worker-liveness"]`), POLL).toBe('offline');
    expect(await text(page, '[data-testid="hives-offline"]')).toBe('1');
    // Its last readings stay, greyed and dated, never as live.
    expect(await page.getAttribute(card, 'data-stale')).toBe('true');
    expect(await text(page, `${card} [data-testid="hive-readings-age"]`)).toMatch(/^last reading \d+ s ago$/);

    await startHive(hiveId, dirs, hiveArgs);
    await expect.poll(liveness, POLL).toBe('online');
    expect(await text(page, `${card} [data-testid="hive-liveness"]`)).toBe('online');
    await expect.poll(() => text(page, `${card} [data-testid="hive-age"]`), POLL).toMatch(/^seen [01] s ago$/);
    expect(await page.getAttribute(card, 'data-stale')).toBe('false');
    // The header's online count comes with the queen's next periodic event.
    await expect.poll(() => text(page, '[data-testid="hives-online"]'), POLL).toBe('1');
    expect(await text(page, '[data-testid="hives-offline"]')).toBe('0');

    const log = await page.locator('[data-testid="log-entry"]').allInnerTexts();
    const hiveLog = log.filter((entry) => entry.includes(`hive ${hiveId} `));
    // Newest first: back online, offline, suspect.
    expect(hiveLog.slice(0, 3)).toEqual([
      expect.stringMatching(/offline → online \(heartbeat\)$/),
      expect.stringMatching(/suspect → offline \(missed heartbeats\)$/),
      expect.stringMatching(/online → suspect \(missed heartbeats\)$/),
    ]);
    const workerOffline = new RegExp(
      `worker ${worker.worker_id} \\w+ → offline \\((hive offline|missed heartbeats)\\)$`,
    );
    expect(log.filter((entry) => workerOffline.test(entry))).toHaveLength(1);
    expect(problems).toEqual([]);
    await saveScreenshot(page, 'dashboard-cluster');
  });
});
