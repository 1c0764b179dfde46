import type { ConnectionState } from './connection-state.js';
import { h, setAttribute, setHidden, setText } from './dom.js';
import type { Counts } from './store.js';

const CONNECTION_SYMBOLS: Readonly<Record<ConnectionState, string>> = {
  connecting: '◌',
  live: '●',
  reconnecting: '↻',
};

/** The page header: the queen's counts, local liveness tallies and the stream's connection state. */
export class Summary {
  readonly element: HTMLElement;
  private readonly connection = h('span', { class: 'connection', role: 'status', 'data-testid': 'connection' });
  private readonly epoch = h('span', { class: 'epoch', 'data-testid': 'queen-epoch' });
  private readonly values = {
    hivesOnline: counter('hives-online'),
    hivesExpected: counter('hives-expected'),
    workersOnline: counter('workers-online'),
    workersAvailable: counter('workers-available'),
    hivesSuspect: counter('hives-suspect'),
    hivesOffline: counter('hives-offline'),
  };

  constructor() {
    const item = (label: string, value: HTMLElement): HTMLElement =>
      h('div', { class: 'count' }, h('dt', {}, label), value);
    this.element = h(
      'header',
      { class: 'summary' },
      h('div', { class: 'title' }, h('h1', {}, 'Apiary'), this.connection, this.epoch),
      h(
        'dl',
        { class: 'counts' },
        item('Hives online', this.values.hivesOnline),
        item('Hives expected', this.values.hivesExpected),
        item('Workers online', this.values.workersOnline),
        item('Workers available', this.values.workersAvailable),
        item('Hives suspect', this.values.hivesSuspect),
        item('Hives offline', this.values.hivesOffline),
      ),
    );
    this.setConnection('connecting');
  }

  update(counts: Counts): void {
    setText(this.values.hivesOnline, String(counts.hivesOnline));
    setText(this.values.hivesExpected, String(counts.hivesExpected));
    setText(this.values.workersOnline, String(counts.workersOnline));
    setText(this.values.workersAvailable, String(counts.workersAvailable));
    setText(this.values.hivesSuspect, String(counts.hivesSuspect));
    setText(this.values.hivesOffline, String(counts.hivesOffline));
    setHidden(this.epoch, counts.queenEpoch === null);
    setText(this.epoch, `queen ${counts.queenEpoch ?? ''}`);
  }

  setConnection(state: ConnectionState): void {
    setAttribute(this.connection, 'data-state', state);
    setText(this.connection, `${CONNECTION_SYMBOLS[state]} ${state}`);
    setAttribute(document.body, 'data-connection', state);
  }
}

function counter(testId: string): HTMLElement {
  return h('dd', { 'data-testid': testId }, '–');
}
