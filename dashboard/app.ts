import { monitorSeries } from '../contracts/metric-series.js';
import type { HiveView } from '../contracts/registry.js';
import type { StreamEvent } from '../contracts/stream.js';
import { connectStream, streamUrl } from './connection.js';
import { h } from './dom.js';
import { eventsLoader } from './events-source.js';
import { HiveGrid } from './hive-grid.js';
import { metricsLoader } from './metrics-source.js';
import { QueenClock } from './queen-clock.js';
import { DashboardStore } from './store.js';
import { Summary } from './summary.js';
import { Timeline } from './timeline.js';
import { TransitionLog } from './transition-log.js';
import { TREND_SPAN_S } from './trend.js';
import { TrendStore } from './trend-store.js';

const TICK_MS = 1000;
const SNAPSHOT_MARK = 'apiary:snapshot';
const FIRST_PAINT_MARK = 'apiary:first-paint';
const ALL_CARDS_MARK = 'apiary:all-cards';
/** Sparklines slide with time even while no reading arrives (an offline hive's trend moves into the past). */
const TREND_SLIDE_TICKS = 10;

/** The server writes the protocol's paths and event name on <body>, so no protocol constant is copied here. */
function readConfig(body: HTMLElement): {
  streamPath: string;
  streamEvent: string;
  metricsPath: string;
  eventsPath: string;
} {
  const { streamPath, streamEvent, metricsPath, eventsPath } = body.dataset;
  if (!streamPath || !streamEvent || !metricsPath || !eventsPath) {
    throw new Error(
      'apiary dashboard: <body> lacks data-stream-path/data-stream-event/data-metrics-path/data-events-path',
    );
  }
  return { streamPath, streamEvent, metricsPath, eventsPath };
}

/** The queen's wall clock when it sent `event`, when the event tells. */
function queenTimeOf(event: StreamEvent): number | undefined {
  const seen = (hive: HiveView): number | undefined =>
    hive.last_seen === null || hive.last_seen_age_ms === null
      ? undefined
      : Date.parse(hive.last_seen) + hive.last_seen_age_ms;
  switch (event.type) {
    case 'queen':
      return Date.parse(event.timestamp);
    case 'hive':
      return seen(event);
    case 'snapshot':
      return Math.max(...event.hives.map((hive) => seen(hive) ?? Number.NEGATIVE_INFINITY));
    default:
      return undefined;
  }
}

function filterBar(onChange: (text: string, problemsOnly: boolean) => void): HTMLElement {
  const text = h('input', {
    type: 'search',
    placeholder: 'Filter by hive, model or worker type',
    'aria-label': 'filter hives',
    'data-testid': 'filter',
  });
  const problems = h('input', { type: 'checkbox', 'data-testid': 'problems-only' });
  const changed = (): void => onChange(text.value.trim().toLowerCase(), problems.checked);
  text.addEventListener('input', changed);
  problems.addEventListener('change', changed);
  return h('div', { class: 'filters' }, text, h('label', {}, problems, ' only hives not online'));
}

function start(): void {
  const config = readConfig(document.body);
  const store = new DashboardStore();
  const summary = new Summary();
  const clock = new QueenClock();
  let frameRequested = false;
  const requestFrame = (): void => {
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(draw);
  };
  const trends = new TrendStore(metricsLoader(config.metricsPath, location.href), requestFrame);
  const grid = new HiveGrid((hiveId) => trends.want(hiveId));
  const trendRange = (): [number, number] => {
    const now = clock.nowS(performance.now());
    return [now - TREND_SPAN_S, now];
  };
  const log = new TransitionLog();
  const timeline = new Timeline(eventsLoader(config.eventsPath, location.href));
  const filters = filterBar((text, problemsOnly) => grid.setFilter({ text, problemsOnly }));
  document.body.replaceChildren(
    summary.element,
    h(
      'div',
      { class: 'layout' },
      h('main', {}, filters, grid.element),
      h('aside', { class: 'side' }, timeline.element, log.element),
    ),
  );

  // Events land in the stores at once; the DOM is touched at most once per frame, only where something changed.
  let rendered = false;
  let allDrawn = false;
  function draw(): void {
    frameRequested = false;
    const changes = store.takeChanges();
    const wasDrawing = grid.drawing;
    grid.render(store, changes, performance.now());
    // When the first snapshot's first cards, and then all of them, were painted (a frame after they were built),
    // for whoever measures the page.
    if (changes.reset && !rendered) {
      rendered = true;
      requestAnimationFrame(() => performance.mark(FIRST_PAINT_MARK));
    }
    if (grid.drawing) requestFrame();
    else if (rendered && !allDrawn) {
      allDrawn = true;
      requestAnimationFrame(() => performance.mark(ALL_CARDS_MARK));
    }
    if (changes.summary) summary.update(store.counts());
    // The filter's thousand options wait until the cards are drawn: the screen comes first.
    if (!grid.drawing && (changes.reset || changes.summary || wasDrawing)) timeline.setHives(store.cardIds());
    log.add(changes.transitions);
    grid.drawTrends(trends, trendRange(), trends.takeChanged());
  }

  connectStream({
    url: streamUrl(config.streamPath, location.href),
    eventName: config.streamEvent,
    onState: (state) => summary.setConnection(state),
    onEvent: (event) => {
      const now = performance.now();
      store.apply(event, now);
      const queenTime = queenTimeOf(event);
      if (queenTime !== undefined) clock.observe(queenTime, now);
      // A transition is in the history by now.
      if (event.type === 'liveness') timeline.refresh();
      if (event.type === 'snapshot') {
        // After a (re)connection anything may have happened, even a new queen with a new history: read its newest.
        timeline.reload();
        if (!rendered) performance.mark(SNAPSHOT_MARK);
        // What the page missed while disconnected is only in the queen's history: reload the cards on screen.
        trends.reset();
        for (const hiveId of grid.visibleIds()) trends.want(hiveId);
      } else if (event.type === 'hive' && event.monitor_data && event.last_seen !== null) {
        trends.add(event.hive_id, Date.parse(event.last_seen) / 1000, monitorSeries(event.monitor_data));
      }
      requestFrame();
    },
  });
  let ticks = 0;
  setInterval(() => {
    grid.tick(performance.now());
    ticks += 1;
    if (ticks % TREND_SLIDE_TICKS === 0) grid.drawTrends(trends, trendRange());
  }, TICK_MS);
}

start();
