import { h, setAttribute, setText } from './dom.js';
import { clampPercent } from './format.js';
import type { Sparkline } from './sparkline.js';

/** Fill thresholds in percent of the bar: `high` is amber, `critical` red (always with the number as text). */
export interface MeterThresholds {
  readonly high: number;
  readonly critical: number;
}

const DEFAULT_THRESHOLDS: MeterThresholds = { high: 75, critical: 90 };

/** A labelled horizontal bar with its value as text, exposed to assistive technology as a meter; a trend above it. */
export class Meter {
  readonly element: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly fill: HTMLElement;
  private readonly text: HTMLElement;

  constructor(
    label: string,
    testId: string,
    private readonly thresholds: MeterThresholds = DEFAULT_THRESHOLDS,
    trend?: Sparkline,
  ) {
    this.fill = h('span', { class: 'meter-fill' });
    this.bar = h(
      'span',
      { class: 'meter-bar', role: 'meter', 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100' },
      this.fill,
    );
    this.text = h('span', { class: 'meter-text', 'data-testid': testId });
    const graph = h('span', { class: 'meter-graph' }, ...(trend ? [trend.element] : []), this.bar);
    this.element = h('div', { class: 'meter' }, h('span', { class: 'meter-label' }, label), graph, this.text);
  }

  /** Shows `percent` (0–100) of the bar filled, described by `text`. */
  update(percent: number, text: string): void {
    const value = clampPercent(percent);
    const level = value >= this.thresholds.critical ? 'critical' : value >= this.thresholds.high ? 'high' : 'ok';
    const width = `${value.toFixed(1)}%`;
    if (this.fill.style.width !== width) this.fill.style.width = width;
    setAttribute(this.element, 'data-level', level);
    setAttribute(this.bar, 'aria-valuenow', value.toFixed(0));
    setAttribute(this.bar, 'aria-valuetext', text);
    setText(this.text, text);
  }

  /** No reading yet: an empty bar and a word saying so. */
  clear(text: string): void {
    this.update(0, text);
    setAttribute(this.element, 'data-level', 'none');
  }
}
