import { connectStream, streamUrl } from './connection.js';
import { h } from './dom.js';
import { HiveGrid } from './hive-grid.js';
import { DashboardStore } from './store.js';
import { Summary } from './summary.js';
import { TransitionLog } from './transition-log.js';

const TICK_MS = 1000;

/** The server writes the stream's path and event name on <body>, so no protocol constant is copied here. */
function readConfig(body: HTMLElement): { streamPath: string; streamEvent: string } {
  const { streamPath, streamEvent } = body.dataset;
  if (!streamPath || !streamEvent) throw new Error('apiary dashboard: <body> lacks data-stream-path/data-stream-event');
  return { streamPath, streamEvent };
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
  const grid = new HiveGrid();
  const log = new TransitionLog();
  const filters = filterBar((text, problemsOnly) => grid.setFilter({ text, problemsOnly }));
  document.body.replaceChildren(
    summary.element,
    h('div', { class: 'layout' }, h('main', {}, filters, grid.element), log.element),
  );

  // Events land in the store at once; the DOM is touched at most once per frame, only where something changed.
  let frameRequested = false;
  const draw = (): void => {
    frameRequested = false;
    const changes = store.takeChanges();
    grid.render(store, changes, performance.now());
    if (changes.summary) summary.update(store.counts());
    log.add(changes.transitions);
  };

  connectStream({
    url: streamUrl(config.streamPath, location.href),
    eventName: config.streamEvent,
    onState: (state) => summary.setConnection(state),
    onEvent: (event) => {
      store.apply(event, performance.now());
      if (frameRequested) return;
      frameRequested = true;
      requestAnimationFrame(draw);
    },
  });
  setInterval(() => grid.tick(performance.now()), TICK_MS);
}

start();
