import type { WorkerView } from '../contracts/registry.js';
import { h, setAttribute, setHidden, setText } from './dom.js';
import { engineSummary } from './engine-summary.js';
import { LivenessBadge } from './liveness-badge.js';

/** Two lines per worker (identity and state, then what it runs where): fits a narrow card without truncating. */
class WorkerRow {
  readonly element: HTMLElement;
  private readonly liveness = new LivenessBadge('worker-liveness');
  private readonly status = h('span', { class: 'worker-status', 'data-testid': 'worker-status' });
  private readonly requests = h('span', { 'data-testid': 'worker-requests' });
  private readonly model = h('span', { class: 'worker-model', 'data-testid': 'worker-model' });
  private readonly device = h('span', { 'data-testid': 'worker-device' });
  private readonly engine = h('div', { class: 'worker-line worker-engine', 'data-testid': 'worker-engine' });
  private readonly lastError = h('div', { class: 'worker-line worker-error', 'data-testid': 'worker-last-error' });

  constructor(workerId: string) {
    this.element = h(
      'li',
      { class: 'worker', 'data-testid': 'worker', 'data-worker-id': workerId },
      h(
        'div',
        { class: 'worker-line' },
        h('span', { class: 'worker-id', title: workerId }, workerId),
        this.liveness.element,
        this.status,
        h('span', { class: 'worker-served' }, 'served ', this.requests),
      ),
      h('div', { class: 'worker-line worker-detail' }, this.model, h('span', {}, 'on'), this.device),
      this.engine,
      this.lastError,
    );
  }

  update(worker: WorkerView): void {
    this.liveness.update(worker.liveness);
    setAttribute(this.element, 'data-liveness', worker.liveness);
    setAttribute(this.status, 'data-status', worker.status);
    setText(this.status, worker.status);
    setText(this.requests, worker.requests_served.toLocaleString('en-US'));
    setText(this.model, worker.model);
    setAttribute(this.model, 'title', worker.model);
    setText(this.device, worker.device);
    const engine = engineSummary(worker);
    setText(this.engine, engine ?? '');
    setHidden(this.engine, engine === null);
    setText(this.lastError, worker.last_error ?? '');
    setAttribute(this.lastError, 'title', worker.last_error ?? '');
    setHidden(this.lastError, worker.last_error === undefined);
  }
}

/** A hive's workers, one row per worker id, kept in id order and updated in place. */
export class WorkerList {
  readonly element: HTMLElement;
  private readonly heading = h('h3', { class: 'workers-heading' });
  private readonly list = h('ul', { class: 'workers', 'data-testid': 'workers' });
  private readonly rows = new Map<string, WorkerRow>();

  constructor() {
    this.element = h('section', { class: 'workers-block' }, this.heading, this.list);
  }

  /** `workers` must be sorted by id. */
  update(workers: readonly WorkerView[]): void {
    const seen = new Set<string>();
    let previous: Element | null = null;
    for (const worker of workers) {
      seen.add(worker.worker_id);
      let row = this.rows.get(worker.worker_id);
      if (!row) {
        row = new WorkerRow(worker.worker_id);
        this.rows.set(worker.worker_id, row);
      }
      row.update(worker);
      const expectedNext: Element | null = previous ? previous.nextElementSibling : this.list.firstElementChild;
      if (expectedNext !== row.element) {
        if (previous) previous.after(row.element);
        else this.list.prepend(row.element);
      }
      previous = row.element;
    }
    for (const [id, row] of this.rows) {
      if (seen.has(id)) continue;
      row.element.remove();
      this.rows.delete(id);
    }
    setText(this.heading, workers.length === 0 ? 'No workers' : `Workers (${workers.length})`);
    setHidden(this.list, workers.length === 0);
  }
}
