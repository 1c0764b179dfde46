import { h, setHidden } from './dom.js';
import { type CardFilter, HiveCard } from './hive-card.js';
import type { Changes, DashboardStore } from './store.js';

/** The responsive grid of hive cards, keyed by hive id and kept in id order. */
export class HiveGrid {
  readonly element: HTMLElement;
  private readonly list = h('div', { class: 'hive-grid', 'data-testid': 'hives' });
  private readonly empty = h('p', { class: 'empty', 'data-testid': 'hives-empty' }, 'No hives known yet.');
  private readonly cards = new Map<string, HiveCard>();
  private filter: CardFilter = { text: '', problemsOnly: false };

  constructor() {
    this.element = h('section', { class: 'hives', 'aria-label': 'hives' }, this.empty, this.list);
  }

  /** Draws what changed: every card after a snapshot, else only the cards of the hives that changed. */
  render(store: DashboardStore, changes: Changes, now: number): void {
    const ids = store.cardIds();
    const present = new Set(ids);
    if (changes.reset) {
      for (const [id, card] of this.cards) {
        if (present.has(id)) continue;
        card.element.remove();
        this.cards.delete(id);
      }
    }
    const toDraw = changes.reset ? ids : [...changes.hiveIds].sort();
    for (const id of toDraw) {
      if (!present.has(id)) {
        this.cards.get(id)?.element.remove();
        this.cards.delete(id);
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

  /** Places a new card before the next existing card in id order. */
  private insertCard(id: string, sortedIds: readonly string[]): HiveCard {
    const card = new HiveCard(id);
    this.cards.set(id, card);
    const position = sortedIds.indexOf(id);
    const next = sortedIds.slice(position + 1).find((other) => this.cards.has(other) && other !== id);
    const nextCard = next === undefined ? undefined : this.cards.get(next);
    if (nextCard) nextCard.element.before(card.element);
    else this.list.append(card.element);
    return card;
  }
}
