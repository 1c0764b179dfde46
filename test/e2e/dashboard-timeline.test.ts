import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../contracts/events.js';
import { TIMELINE_HELD, TIMELINE_PAGE } from '../../dashboard/history-window.js';
import { freePort } from '../../services/ports.js';
import { QueenApi } from '../support/queen-api.js';
import { eventually, killAll, type RoleProcess } from '../support/role-process.js';
import { saveScreenshot } from './browser.js';
import { createHiveDirs, killHiveGroups, startHive, startQueen } from './cluster-roles.js';
import { dashboardSession, text } from './dashboard-session.js';
import { NOW } from './dashboard-views.js';
import { spawnWorker } from './hive-api.js';

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
    const gpuA = await startHive('gpu-a', createHiveDirs(root, 'gpu-a'), ['--queen-url', first.url]);
    await startHive('gpu-b', createHiveDirs(root, 'gpu-b'), ['--queen-url', first.url]);
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

    // A worker of gpu-a: the hive's filter shows its events with the hive's own.
    const worker = await spawnWorker(gpuA.url, 'tiny');
    const workerRegistered = `worker ${worker.worker_id} registered (heartbeat)`;
    await expect
      .poll(async () => (await entries(page)).some((entry) => entry.endsWith(workerRegistered)), POLL)
      .toBe(true);

    await expect.poll(() => page.locator('[data-testid="timeline-hive"] option').count(), POLL).toBe(4);
    await page.selectOption('[data-testid="timeline-hive"]', 'gpu-a');
    const aboutGpuA = (entry: string): boolean =>
      entry.includes(' hive gpu-a ') || entry.includes(` worker ${worker.worker_id} `);
    // An empty list (the filtered page still on its way) has every entry about gpu-a too: wait for the page itself.
    await expect
      .poll(async () => {
        const listed = await entries(page);
        return listed.some((entry) => restarted.test(entry)) && listed.every(aboutGpuA);
      }, POLL)
      .toBe(true);
    const filtered = await entries(page);
    expect(filtered).toContainEqual(expect.stringMatching(restarted));
    expect(filtered).toContainEqual(expect.stringMatching(/hive gpu-a registered/));
    expect(filtered).toContainEqual(expect.stringContaining(workerRegistered));
    await page.selectOption('[data-testid="timeline-hive"]', '');
    await expect
      .poll(async () => (await entries(page)).some((entry) => entry.includes(' hive gpu-b ')), POLL)
      .toBe(true);
    expect(pageErrors).toEqual([]);
    await saveScreenshot(page, 'dashboard-timeline');
  });

  it('reads the newest page first, older pages on demand, and holds a bounded number of entries', async () => {
    const { queen, base, page, pageErrors } = session;
    const total = TIMELINE_HELD + 2 * TIMELINE_PAGE;
    queen.events.push(...Array.from({ length: total }, (_, index) => historyEvent(index + 1)));
    await page.goto(`${base}/`);
    await expect.poll(() => page.locator(ENTRY).count(), POLL).toBe(TIMELINE_PAGE);
    expect(await seqs(page)).toEqual(range(total, total - TIMELINE_PAGE + 1));
    // One read of the newest page, not the history from its start.
    expect(queen.eventsRequests.map((search) => Object.fromEntries(new URLSearchParams(search)))).toEqual([
      { order: 'newest', limit: String(TIMELINE_PAGE) },
    ]);
    await page.click('[data-testid="timeline-older"]');
    await expect.poll(() => page.locator(ENTRY).count(), POLL).toBe(2 * TIMELINE_PAGE);
    expect(new URLSearchParams(queen.eventsRequests.at(-1)).get('before')).toBe(String(total - TIMELINE_PAGE + 1));
    // Older pages up to the bound: the newest give way, and the page offers them again.
    for (let read = 3; read <= total / TIMELINE_PAGE; read += 1) {
      await page.click('[data-testid="timeline-older"]');
      await expect
        .poll(() => newestSeq(page), POLL)
        .toBe(Math.min(total, TIMELINE_HELD + (total - read * TIMELINE_PAGE)));
    }
    expect(await page.locator(ENTRY).count()).toBe(TIMELINE_HELD);
    expect(await page.locator('[data-testid="timeline-older"]').isHidden()).toBe(true);
    expect(await text(page, `${ENTRY} >> nth=-1`)).toMatch(/hive hive-1 registered \(heartbeat\)$/);
    await page.click('[data-testid="timeline-newest"]');
    await expect.poll(() => newestSeq(page), POLL).toBe(total);
    expect(await page.locator(ENTRY).count()).toBe(TIMELINE_PAGE);
    expect(pageErrors).toEqual([]);
  });

  it('adds new events on top, reads a restarted history afresh, and stops at a page whose cursor does not move', async () => {
    const { queen, base, page, pageErrors } = session;
    queen.events.push(...Array.from({ length: 3 }, (_, index) => historyEvent(index + 1)));
    await page.goto(`${base}/`);
    await expect.poll(() => seqs(page), POLL).toEqual([3, 2, 1]);
    queen.events.push(historyEvent(4));
    queen.send({
      type: 'liveness',
      kind: 'hive',
      id: 'hive-4',
      from: null,
      to: 'online',
      reason: 'heartbeat',
      timestamp: NOW,
    });
    await expect.poll(() => seqs(page), POLL).toEqual([4, 3, 2, 1]);
    expect(new URLSearchParams(queen.eventsRequests.at(-1)).get('after')).toBe('3');

    // A queen that kept nothing (`--state-dir none`) restarts: its numbers start again below the ones held.
    queen.events.splice(0, queen.events.length, historyEvent(1), { ...historyEvent(2), id: 'after-restart' });
    queen.dropStreams();
    await expect.poll(() => seqs(page), POLL).toEqual([2, 1]);
    expect(await text(page, `${ENTRY} >> nth=0`)).toContain('hive after-restart registered');

    // A page that comes back empty yet names a next page was cut short (a queen on etcd bounds a filtered read):
    // "Older events" reads on from its cursor, and a page that does not move the cursor is the end, no loop.
    const older = page.locator('[data-testid="timeline-older"]');
    queen.eventsAnswer = (query) => (query.order === 'newest' ? { events: [], next: 7 } : undefined);
    queen.dropStreams();
    await expect.poll(() => page.locator(ENTRY).count(), POLL).toBe(0);
    await expect.poll(() => older.isVisible(), POLL).toBe(true);
    const reads = queen.eventsRequests.length;
    queen.events.push(historyEvent(3));
    queen.send({
      type: 'liveness',
      kind: 'hive',
      id: 'hive-3',
      from: null,
      to: 'online',
      reason: 'heartbeat',
      timestamp: NOW,
    });
    await expect.poll(() => seqs(page), POLL).toEqual([3, 2, 1]);
    expect(queen.eventsRequests.length).toBe(reads + 1);
    await older.click();
    await expect.poll(() => older.isHidden(), POLL).toBe(true);
    expect(new URLSearchParams(queen.eventsRequests.at(-1)).get('before')).toBe('7');
    expect(queen.eventsRequests.length).toBe(reads + 2);
    expect(await seqs(page)).toEqual([3, 2, 1]);
    expect(pageErrors).toEqual([]);
  });
});

async function seqs(page: Page): Promise<number[]> {
  return (await page.locator(ENTRY).evaluateAll((items) => items.map((item) => item.getAttribute('data-seq')))).map(
    Number,
  );
}

async function newestSeq(page: Page): Promise<number> {
  return Number(await page.getAttribute(`${ENTRY} >> nth=0`, 'data-seq'));
}

/** `from` down to `to`. */
function range(from: number, to: number): number[] {
  return Array.from({ length: from - to + 1 }, (_, index) => from - index);
}
