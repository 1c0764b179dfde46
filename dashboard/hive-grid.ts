import { h, setHidden } from './dom.js';
import { type CardFilter, HiveCard } from './hive-card.js';
import type { Changes, DashboardStore } from './store.js';
import { TREND_SPAN_S } from './trend.js';
import type { TrendStore } from './trend-store.js';

const ON_SCREEN_MARGIN_PX = 300;
/** Cards a snapshot draws a frame: more than any screen shows, so its first frame paints what is seen. */
export const CARDS_PER_FRAME = 50;

/** The responsive grid of hive cards, keyed by hive id and kept in id order. */
export class HiveGrid {
  readonly element: HTMLElement;
  private readonly list = h('div', { class: 'hive-grid', 'data-testid': 'hives' });
  private readonly empty = h('p', { class: 'empty', 'data-testid': 'hives-empty' }, 'No hives known yet.');
  private readonly cards = new Map<string, HiveCard>();
  /** Cards on or near the screen: only they build their bodies and draw trends, so a thousand hives stay cheap. */
  private readonly visible = new Set<string>();
  private readonly observer: IntersectionObserver;
  private filter: CardFilter = { text: '', problemsOnly: false };
  /** A snapshot's cards not drawn yet, in id order. */
  private queued: string[] = [];

  /** `onVisible` is told each hive whose card came on screen. */
  constructor(onVisible: (hiveId: string) => void) {
    this.element = h('section', { class: 'hives', 'aria-label': 'hives' }, this.empty, this.list);
    this.observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const id = entry.target.getAttribute('data-hive-id');
          if (id === null) continue;
          if (entry.isIntersecting) this.cards.get(id)?.show(performance.now());
          if (!entry.isIntersecting) this.visible.delete(id);
          else if (!this.visible.has(id)) {
            this.visible.add(id);
            onVisible(id);
          }
        }
      },
      // Cards just below the fold are ready before they are scrolled to.
      { rootMargin: `${ON_SCREEN_MARGIN_PX}px 0px` },
    );
  }

  visibleIds(): string[] {
    return [...this.visible];
  }

  /** Redraws the trends of `ids` (every visible card when undefined) that are on screen, over `range`. */
  drawTrends(trends: TrendStore, range: [number, number], ids?: Iterable<string>): void {
    for (const id of ids ?? this.visible) {
      const trend = trends.get(id);
      if (!trend || !this.visible.has(id)) continue;
      trend.trim(range[0] + TREND_SPAN_S);
      this.cards.get(id)?.drawTrend(trend, range);
    }
  }

  /** Whether a snapshot's cards are still being drawn: the host asks for another frame. */
  get drawing(): boolean {
    return this.queued.length > 0;
  }

  /**
   * Draws what changed: the cards of the hives that changed, and after a snapshot every card, `CARDS_PER_FRAME` a
   * frame from the top, so the first frame shows the screen instead of waiting for a thousand cards below it.
   */
  render(store: DashboardStore, changes: Changes, now: number): void {
    const ids = store.cardIds();
    const present = new Set(ids);
    if (changes.reset) {
      for (const [id, card] of this.cards) {
        if (present.has(id)) continue;
        this.removeCard(id, card);
      }
      this.queued = [...ids];
    }
    // After a snapshot every hive changed: the queue holds them all, in order.
    const changed = changes.reset ? [] : [...changes.hiveIds].sort();
    const toDraw = [...this.queued.splice(0, CARDS_PER_FRAME), ...changed];
    for (const id of toDraw) {
      if (!present.has(id)) {
        const card = this.cards.get(id);
        if (card) this.removeCard(id, card);
        continue;
      }
      const card = this.cards.get(id) ?? this.insertCard(id, ids);
      card.update(store.hive(id), store.workersOf(id), store.hiveSeenAtOf(id), now);
      card.applyFilter(this.filter);
    }
    setHidden(this.empty, this.cards.size > 0);
  }

  tick(now: number): void {
    for (const card of this.cards.values()) card.tick(now);
  }

  setFilter(filter: CardFilter): void {
    this.filter = filter;
    for (const card of this.cards.values()) card.applyFilter(filter);
  }

  private removeCard(id: string, card: HiveCard): void {
    this.observer.unobserve(card.element);
    card.element.remove();
    this.cards.delete(id);
    this.visible.delete(id);
  }

  /** Places a new card before the next existing card in id order: at the end, unless a later id is there already. */
  private insertCard(id: string, sortedIds: readonly string[]): HiveCard {
    const card = new HiveCard(id);
    const lastId = this.list.lastElementChild?.getAttribute('data-hive-id');
    const next =
      lastId === undefined || lastId === null || lastId < id
        ? undefined
        : sortedIds.slice(sortedIds.indexOf(id) + 1).find((other) => this.cards.has(other));
    this.cards.set(id, card);
    const nextCard = next === undefined ? undefined : this.cards.get(next);
    if (nextCard) nextCard.element.before(card.element);
    else this.list.append(card.element);
    this.observer.observe(card.element);
    return card;
  }
}
