import type { HistoryEvent } from '../../../../contracts/events.js';
import { h, setHidden, setText } from './dom.js';
import type { EventsLoader } from './events-source.js';
import { formatClock } from './format.js';

/** Entries shown at first, and added by each "older" click. */
export const TIMELINE_PAGE = 50;

/**
 * The queen's history, newest first: what happened before the page opened and across queen restarts. It reads the
 * history route forward from the last event it holds (the route's cursor), again whenever the stream says something
 * happened; one read at a time, and at most one more queued, however many events arrive.
 */
export class Timeline {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'log', 'data-testid': 'timeline' });
  private readonly status = h('p', { class: 'empty', 'data-testid': 'timeline-status' }, 'Loading the history…');
  private readonly older = h('button', { type: 'button', 'data-testid': 'timeline-older' }, 'Older events');
  private readonly hiveFilter = h(
    'select',
    { 'aria-label': 'timeline hive', 'data-testid': 'timeline-hive' },
    h('option', { value: '' }, 'All hives and workers'),
  );
  private events: HistoryEvent[] = [];
  private after = 0;
  private shown = TIMELINE_PAGE;
  private hiveId: string | null = null;
  private hiveIds = '';
  private loading = false;
  private queued = false;

  constructor(private readonly load: EventsLoader) {
    this.element = h(
      'section',
      { class: 'log-panel', 'aria-label': 'timeline' },
      h('h2', {}, 'Timeline'),
      this.hiveFilter,
      this.status,
      this.list,
      this.older,
    );
    setHidden(this.older, true);
    this.hiveFilter.addEventListener('change', () => this.setHive(this.hiveFilter.value || null));
    this.older.addEventListener('click', () => {
      this.shown += TIMELINE_PAGE;
      this.render();
    });
  }

  /** The hives the filter offers, sorted; the one chosen stays even when the queen no longer lists it. */
  setHives(ids: readonly string[]): void {
    const key = ids.join('\n');
    if (key === this.hiveIds) return;
    this.hiveIds = key;
    const chosen = this.hiveFilter.value;
    const offered = chosen === '' || ids.includes(chosen) ? ids : [...ids, chosen];
    this.hiveFilter.replaceChildren(
      h('option', { value: '' }, 'All hives and workers'),
      ...offered.map((id) => h('option', { value: id }, id)),
    );
    this.hiveFilter.value = chosen;
  }

  /** Reads what the history gained since the last read. */
  refresh(): void {
    if (this.loading) {
      this.queued = true;
      return;
    }
    this.loading = true;
    void this.readNewer().finally(() => {
      this.loading = false;
      if (!this.queued) return;
      this.queued = false;
      this.refresh();
    });
  }

  private setHive(hiveId: string | null): void {
    this.hiveId = hiveId;
    this.events = [];
    this.after = 0;
    this.shown = TIMELINE_PAGE;
    this.render();
    this.refresh();
  }

  private async readNewer(): Promise<void> {
    const hiveId = this.hiveId;
    for (;;) {
      const page = await this.load(this.after, hiveId).catch(() => null);
      // The filter changed meanwhile: the read it queued starts afresh.
      if (hiveId !== this.hiveId) return;
      if (!page) {
        setText(this.status, 'The history cannot be read now.');
        setHidden(this.status, false);
        return;
      }
      this.events.push(...page.events);
      this.after = page.events.at(-1)?.seq ?? this.after;
      if (page.next === null) break;
    }
    this.render();
  }

  private render(): void {
    const newest = this.events.slice(-this.shown).reverse();
    this.list.replaceChildren(...newest.map(entry));
    setText(this.status, 'Nothing happened yet.');
    setHidden(this.status, this.events.length > 0);
    setHidden(this.older, this.events.length <= this.shown);
  }
}

function entry(event: HistoryEvent): HTMLElement {
  return h(
    'li',
    {
      'data-testid': 'timeline-entry',
      'data-seq': String(event.seq),
      'data-type': event.type,
      'data-to': event.to ?? '',
    },
    h('time', { datetime: event.time, title: event.time }, formatClock(event.time)),
    ' ',
    h('span', { class: 'log-subject' }, `${event.kind} ${event.id}`),
    ' ',
    h('span', { class: 'log-change' }, change(event)),
    ...(event.reason === undefined ? [] : [' ', h('span', { class: 'log-reason' }, `(${event.reason})`)]),
  );
}

function change(event: HistoryEvent): string {
  switch (event.type) {
    case 'liveness':
      return `${event.from ?? '?'} → ${event.to ?? '?'}`;
    case 'identity_refused':
      return 'identity refused';
    case 'capabilities':
      return 'capabilities changed';
    default:
      return event.type;
  }
}
