import type { Page } from 'playwright-core';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { type SnapshotEvent, STREAM_EVENT_NAME } from '../../contracts/stream.js';
import { launchBrowser } from '../e2e/browser.js';
import { seenHive, worker } from '../e2e/dashboard-views.js';
import { ScriptedQueen } from '../e2e/scripted-queen.js';
import { fixed, note, printTable, printVerdict, type Verdict } from './support/report.js';
import { median } from './support/stats.js';

/**
 * First paint of the dashboard in Chromium with 1 000 hives × 8 workers: from the snapshot's arrival to the frame
 * after its first cards were built, read from the page's own performance marks; beside it, from the page's request
 * to that frame (what a person opening it waits), and from the snapshot to the frame after the last card. Baseline,
 * loaded in turn in the same browser: a bare page that receives the same snapshot on the same stream and paints one
 * line of text per hive, marked the same way, so the ratio shows what the dashboard adds whatever else the machine
 * is doing. Target: the dashboard's best load under 1 s.
 */

const HIVES = 1_000;
const WORKERS_PER_HIVE = 8;
const ROUNDS = 5;
const TARGET_MS = 1_000;
const SNAPSHOT_MARK = 'apiary:snapshot';
const PAINT_MARK = 'apiary:first-paint';
/** The dashboard's frame after its last card; the bare page paints everything in its first. */
const ALL_CARDS_MARK = 'apiary:all-cards';
const BARE_PATH = '/bare-paint';

/** The baseline: parse, mark, build plain lines in the next frame, mark the frame after, as the dashboard does. */
const BARE_PAGE = `<!doctype html><html><body><script type="module">
const source = new EventSource(${JSON.stringify(QUEEN_PATHS.stream)});
source.addEventListener(${JSON.stringify(STREAM_EVENT_NAME)}, (message) => {
  const event = JSON.parse(message.data);
  if (event.type !== 'snapshot') return;
  source.close();
  performance.mark(${JSON.stringify(SNAPSHOT_MARK)});
  requestAnimationFrame(() => {
    const workers = new Map();
    for (const w of event.workers) workers.set(w.hive_id, (workers.get(w.hive_id) ?? 0) + 1);
    const main = document.createElement('main');
    for (const hive of event.hives) {
      const line = document.createElement('div');
      line.textContent = hive.hive_id + ' ' + hive.liveness + ' ' + hive.monitor_data?.cpu_usage_percent + ' % '
        + (workers.get(hive.hive_id) ?? 0) + ' workers';
      main.append(line);
    }
    document.body.replaceChildren(main);
    requestAnimationFrame(() => performance.mark(${JSON.stringify(PAINT_MARK)}));
  });
});
</script></body></html>`;

function snapshot(): SnapshotEvent {
  const ids = Array.from({ length: HIVES }, (_, index) => `hive-${String(index).padStart(4, '0')}`);
  return {
    type: 'snapshot',
    rev: 1,
    hives: ids.map((id) => seenHive(id)),
    workers: ids.flatMap((id) => Array.from({ length: WORKERS_PER_HIVE }, (_, index) => worker(`${id}-w${index}`, id))),
  };
}

interface Load {
  /** Snapshot received → first cards painted. */
  paint: number;
  /** Page requested → first cards painted. */
  open: number;
  /** Snapshot received → every card painted. */
  all: number;
}

/** One load of `url`, read from the page's marks; `allMark` is the one after the last card. */
async function loadOf(page: Page, url: string, allMark: string): Promise<Load> {
  await page.goto(url);
  await page.waitForFunction((name) => performance.getEntriesByName(name).length > 0, allMark, { timeout: 60_000 });
  return page.evaluate(
    ({ snapshotMark, paintMark, lastMark }) => {
      const at = (name: string): number => performance.getEntriesByName(name)[0]?.startTime ?? Number.NaN;
      return {
        paint: at(paintMark) - at(snapshotMark),
        // Marks count from the navigation's start.
        open: at(paintMark),
        all: at(lastMark) - at(snapshotMark),
      };
    },
    { snapshotMark: SNAPSHOT_MARK, paintMark: PAINT_MARK, lastMark: allMark },
  );
}

export async function paint(): Promise<Verdict> {
  const queen = new ScriptedQueen();
  queen.snapshot = snapshot();
  const base = await queen.listen();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.route(`${base}${BARE_PATH}`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: BARE_PAGE }),
    );
    const dashboard: Load[] = [];
    const bare: Load[] = [];
    // Alternating, so that a burst of load elsewhere falls on both.
    for (let round = 1; round <= ROUNDS; round += 1) {
      note(`paint: round ${round} of ${ROUNDS}`);
      dashboard.push(await loadOf(page, `${base}/`, ALL_CARDS_MARK));
      bare.push(await loadOf(page, `${base}${BARE_PATH}`, PAINT_MARK));
    }
    const paints = dashboard.map((load) => load.paint);
    const best = Math.min(...paints);
    const ratio = median(paints) / median(bare.map((load) => load.paint));
    const row = (page: string, loads: readonly Load[], key: keyof Load): string[] => {
      const ms = loads.map((load) => load[key]);
      return [page, fixed(Math.min(...ms), 0), fixed(median(ms), 0), ms.map((value) => fixed(value, 0)).join(', ')];
    };
    printTable(
      `First paint, ${HIVES} hives × ${WORKERS_PER_HIVE} workers, ${ROUNDS} rounds`,
      ['page: interval', 'best ms', 'median ms', 'every load (ms)'],
      [
        row('dashboard: snapshot → first cards painted', dashboard, 'paint'),
        row('bare lines: snapshot → painted', bare, 'paint'),
        row('dashboard: page requested → first cards painted', dashboard, 'open'),
        row('bare lines: page requested → painted', bare, 'open'),
        row('dashboard: snapshot → every card painted', dashboard, 'all'),
      ],
    );
    return printVerdict({
      bench: 'paint',
      pass: best < TARGET_MS,
      text: `dashboard first paint best ${fixed(best, 0)} ms (target < ${TARGET_MS} ms), median ${fixed(median(paints), 0)} ms; ${fixed(ratio, 1)}× the bare page's median`,
    });
  } finally {
    await browser.close();
    await queen.close();
  }
}
