import type { HistoryEvent } from '../contracts/events.js';
import { h, setHidden, setText } from './dom.js';
import type { EventsLoader } from './events-source.js';
import { formatClock } from './format.js';
import { HistoryWindow, TIMELINE_PAGE } from './history-window.js';

type Read = 'top' | 'newer' | 'older';
/** The order queued reads run in. */
const READS: readonly Read[] = ['top', 'newer', 'older'];

/**
 * The queen's history, newest first: what happened before the page opened and across queen restarts. It reads the
 * newest page first (again on every stream connection, so a queen whose history started afresh is read afresh),
 * what is newer whenever the stream says something happened, and older pages on demand; one read at a time, each
 * kind queued at most once, however many events arrive.
 */
export class Timeline {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'log', 'data-testid': 'timeline' });
  private readonly status = h('p', { class: 'empty', 'data-testid': 'timeline-status' }, 'Loading the history…');
  private readonly older = h('button', { type: 'button', 'data-testid': 'timeline-older' }, 'Older events');
  private readonly newest = h('button', { type: 'button', 'data-testid': 'timeline-newest' }, 'Newest events');
  private readonly hiveFilter = h(
    'select',
    { 'aria-label': 'timeline hive', 'data-testid': 'timeline-hive' },
    h('option', { value: '' }, 'All hives and workers'),
  );
  private readonly held = new HistoryWindow();
  private hiveId: string | null = null;
  private hiveIds = '';
  private readonly wanted = new Set<Read>();
  private reading = false;
  private failed = false;

  constructor(private readonly load: EventsLoader) {
    this.element = h(
      'section',
      { class: 'log-panel', 'aria-label': 'timeline' },
      h('h2', {}, 'Timeline'),
      this.hiveFilter,
      this.newest,
      this.status,
      this.list,
      this.older,
    );
    setHidden(this.older, true);
    setHidden(this.newest, true);
    this.hiveFilter.addEventListener('change', () => this.setHive(this.hiveFilter.value || null));
    this.older.addEventListener('click', () => this.want('older'));
    this.newest.addEventListener('click', () => this.want('top'));
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

  /** Reads the newest page afresh, dropping what is held. */
  reload(): void {
    this.want('top');
  }

  /** Reads what the history gained since the newest event held. */
  refresh(): void {
    this.want('newer');
  }

  private setHive(hiveId: string | null): void {
    this.hiveId = hiveId;
    this.held.clear();
    this.render();
    this.want('top');
  }

  private want(read: Read): void {
    // A fresh top makes a queued read of either end needless.
    if (read === 'top') this.wanted.clear();
    this.wanted.add(read);
    if (!this.reading) void this.drain();
  }

  private async drain(): Promise<void> {
    this.reading = true;
    for (;;) {
      const read = READS.find((kind) => this.wanted.has(kind));
      if (read === undefined) break;
      this.wanted.delete(read);
      const hiveId = this.hiveId;
      const done = await this.read(read, hiveId).catch(() => false);
      // The filter changed meanwhile: its own top read is queued.
      if (hiveId !== this.hiveId) continue;
      this.failed = !done;
      if (this.failed) {
        this.wanted.clear();
        break;
      }
    }
    this.reading = false;
    this.render();
  }

  /** One read; false when the queen did not answer with a page. */
  private async read(read: Read, hiveId: string | null): Promise<boolean> {
    const { held } = this;
    switch (read) {
      case 'top': {
        const page = await this.load({ hiveId, order: 'newest', limit: TIMELINE_PAGE });
        if (page && hiveId === this.hiveId) held.takeTop(page);
        return page !== null;
      }
      case 'newer': {
        if (!held.atTop) return true;
        const after = held.newestSeq;
        const page = await this.load({ hiveId, order: 'oldest', after, limit: TIMELINE_PAGE });
        if (page && hiveId === this.hiveId && !held.takeNewer(page, after)) this.wanted.add('top');
        return page !== null;
      }
      case 'older': {
        const before = held.olderCursor;
        if (before === null) return true;
        const page = await this.load({ hiveId, order: 'newest', before, limit: TIMELINE_PAGE });
        if (page && hiveId === this.hiveId) held.takeOlder(page, before);
        return page !== null;
      }
    }
  }

  private render(): void {
    const { events, olderCursor, atTop } = this.held;
    this.list.replaceChildren(...events.map(entry));
    setText(this.status, this.failed ? 'The history cannot be read now.' : 'Nothing happened yet.');
    setHidden(this.status, !this.failed && events.length > 0);
    setHidden(this.older, olderCursor === null);
    setHidden(this.newest, atTop);
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
