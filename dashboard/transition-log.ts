import { h, setHidden } from './dom.js';
import { formatClock } from './format.js';
import type { Transition } from './store.js';

/** How many liveness transitions the log keeps. */
export const LOG_SIZE = 50;

/** The latest liveness transitions, newest first; kept across reconnects because it is history. */
export class TransitionLog {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'log', 'data-testid': 'log' });
  private readonly empty = h('p', { class: 'empty' }, 'No transitions yet.');

  constructor() {
    this.element = h('section', { class: 'log-panel', 'aria-label': 'liveness log' }, h('h2', {}, 'Liveness log'));
    this.element.append(this.empty, this.list);
  }

  add(transitions: readonly Transition[]): void {
    for (const transition of transitions) this.list.prepend(entry(transition));
    while (this.list.children.length > LOG_SIZE) this.list.lastElementChild?.remove();
    setHidden(this.empty, this.list.children.length > 0);
  }
}

function entry(transition: Transition): HTMLElement {
  return h(
    'li',
    { 'data-testid': 'log-entry', 'data-kind': transition.kind, 'data-to': transition.to },
    h('time', { datetime: transition.timestamp }, formatClock(transition.timestamp)),
    ' ',
    h('span', { class: 'log-subject' }, `${transition.kind} ${transition.id}`),
    ' ',
    h('span', { class: 'log-change' }, `${transition.from ?? 'new'} → ${transition.to}`),
    ' ',
    h('span', { class: 'log-reason' }, `(${transition.reason})`),
  );
}
