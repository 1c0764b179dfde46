import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../contracts/events.js';
import { freePort } from '../../services/ports.js';
import { QueenApi } from '../support/queen-api.js';
import { eventually, killAll, type RoleProcess } from '../support/role-process.js';
import { saveScreenshot } from './browser.js';
import { createHiveDirs, killHiveGroups, startHive, startQueen } from './cluster-roles.js';
import { dashboardSession, text } from './dashboard-session.js';
import { NOW } from './dashboard-views.js';

/**
 * The dashboard's timeline in Chromium: the queen's history from before the page opened and from before a queen
 * restart, kept up to date from the stream, filtered by hive, and read page by page with the history's cursor.
 */

const POLL = { timeout: 10_000, interval: 50 };
const WAIT_MS = 15_000;
const ENTRY = '[data-testid="timeline-entry"]';

let root = '';
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'apiary-e2e-timeline-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  killHiveGroups();
  killAll();
});

const entries = (page: Page): Promise<string[]> => page.locator(ENTRY).allInnerTexts();

async function allOnline(queen: RoleProcess, ids: readonly string[]): Promise<void> {
  const api = new QueenApi(queen.url);
  await eventually(
    async () =>
      (await api.hives()).filter((hive) => ids.includes(hive.hive_id) && hive.liveness === 'online').length ===
      ids.length
        ? true
        : undefined,
    `${ids.join(', ')} online`,
    WAIT_MS,
  );
}

function historyEvent(seq: number): HistoryEvent {
  return { seq, time: NOW, kind: 'hive', id: `hive-${seq}`, type: 'registered', to: 'online', reason: 'heartbeat' };
}

describe('dashboard timeline in Chromium', { timeout: 90_000 }, () => {
  const session = dashboardSession();

  it('shows events from before the page and before a queen restart, new ones live, and filters by hive', async () => {
    const { page, pageErrors } = session;
    const port = String(await freePort('127.0.0.1'));
    const queenArgs = ['--port', port, '--state-dir', path.join(root, 'queen')];
    const first = await startQueen(queenArgs);
    for (const id of ['gpu-a', 'gpu-b']) await startHive(id, createHiveDirs(root, id), ['--queen-url', first.url]);
    await allOnline(first, ['gpu-a', 'gpu-b']);
    first.child.kill('SIGTERM');
    await first.exited;
    const queen = await startQueen(queenArgs);
    await allOnline(queen, ['gpu-a', 'gpu-b']);

    const opened = Date.now();
    await page.goto(`${queen.url}/`);
    const restarted = /^\S+ hive gpu-a online → suspect \(queen restart\)$/;
    await expect.poll(async () => (await entries(page)).some((entry) => restarted.test(entry)), POLL).toBe(true);
    const shown = await entries(page);
    // Registered with the first queen, before the restart and before the page: the history, not the stream.
    expect(shown).toContainEqual(expect.stringMatching(/^\S+ hive gpu-a registered \(heartbeat\)$/));
    expect(shown).toContainEqual(expect.stringMatching(/^\S+ hive gpu-b registered \(heartbeat\)$/));
    const registered = page.locator(`${ENTRY}[data-type="registered"]`, { hasText: 'hive gpu-a' });
    expect(Date.parse((await registered.locator('time').getAttribute('datetime')) ?? '')).toBeLessThan(opened);
    // Newest first: the restart comes above the registration.
    expect(shown.findIndex((entry) => restarted.test(entry))).toBeLessThan(
      shown.findIndex((entry) => entry.includes('hive gpu-a registered')),
    );

    // A hive registering while the page is open appears without a reload.
    await startHive('gpu-c', createHiveDirs(root, 'gpu-c'), ['--queen-url', queen.url]);
    await expect
      .poll(async () => (await entries(page)).some((entry) => /hive gpu-c registered/.test(entry)), POLL)
      .toBe(true);

    await expect.poll(() => page.locator('[data-testid="timeline-hive"] option').count(), POLL).toBe(4);
    await page.selectOption('[data-testid="timeline-hive"]', 'gpu-a');
    // An empty list (the filtered page still on its way) has every entry about gpu-a too: wait for the page itself.
    await expect
      .poll(async () => {
        const listed = await entries(page);
        return listed.some((entry) => restarted.test(entry)) && listed.every((entry) => entry.includes(' hive gpu-a '));
      }, POLL)
      .toBe(true);
    const filtered = await entries(page);
    expect(filtered).toContainEqual(expect.stringMatching(restarted));
    expect(filtered).toContainEqual(expect.stringMatching(/hive gpu-a registered/));
    await page.selectOption('[data-testid="timeline-hive"]', '');
    await expect
      .poll(async () => (await entries(page)).some((entry) => entry.includes(' hive gpu-b ')), POLL)
      .toBe(true);
    expect(pageErrors).toEqual([]);
    await saveScreenshot(page, 'dashboard-timeline');
  });

  it('follows the history’s cursor across pages, shows the newest 50, and older ones on demand', async () => {
    const { queen, base, page, pageErrors } = session;
    queen.events.push(...Array.from({ length: 120 }, (_, index) => historyEvent(index + 1)));
    queen.eventsPageSize = 40;
    await page.goto(`${base}/`);
    await expect.poll(() => page.locator(ENTRY).count(), POLL).toBe(50);
    expect(await page.getAttribute(`${ENTRY} >> nth=0`, 'data-seq')).toBe('120');
    expect(await page.getAttribute(`${ENTRY} >> nth=49`, 'data-seq')).toBe('71');
    expect(queen.eventsRequests.slice(0, 3).map((search) => new URLSearchParams(search).get('after'))).toEqual([
      '0',
      '40',
      '80',
    ]);
    await page.click('[data-testid="timeline-older"]');
    await page.click('[data-testid="timeline-older"]');
    expect(await page.locator(ENTRY).count()).toBe(120);
    expect(await page.locator('[data-testid="timeline-older"]').isHidden()).toBe(true);
    expect(await text(page, `${ENTRY} >> nth=119`)).toMatch(/hive hive-1 registered \(heartbeat\)$/);
    expect(pageErrors).toEqual([]);
  });
});
