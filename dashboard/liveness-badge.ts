import type { Liveness } from '../contracts/registry.js';
import { h, setAttribute, setText } from './dom.js';

/** `unknown` for an entry the queen has not described (a hive only its workers mention). */
export type BadgeLiveness = Liveness | 'unknown';

/** A shape per state, so liveness never depends on colour alone. */
const SYMBOLS: Readonly<Record<BadgeLiveness, string>> = {
  online: '●',
  suspect: '▲',
  offline: '■',
  unknown: '?',
};

/** Liveness as colour, symbol and word. */
export class LivenessBadge {
  readonly element: HTMLElement;
  private readonly symbol: HTMLElement;
  private readonly word: HTMLElement;

  constructor(testId: string) {
    this.symbol = h('span', { class: 'badge-symbol', 'aria-hidden': 'true' });
    this.word = h('span', { 'data-testid': testId });
    this.element = h('span', { class: 'badge' }, this.symbol, this.word);
  }

  update(liveness: BadgeLiveness): void {
    setAttribute(this.element, 'data-liveness', liveness);
    setText(this.symbol, SYMBOLS[liveness]);
    setText(this.word, liveness);
  }
}
