import uPlot from 'uplot';
import { h, setAttribute } from './dom.js';

/** Drawn at this size and stretched to its cell by the stylesheet: no layout read per sparkline. */
const WIDTH = 160;
const HEIGHT = 18;
const STROKE = '#2f81f7';
const FILL = 'rgba(47, 129, 247, 0.15)';

/** A percentage over time, 0–100, as a small uPlot line; `null` values are gaps. */
export class Sparkline {
  readonly element: HTMLElement;
  private plot: uPlot | null = null;
  private range: [number, number] = [0, 1];

  constructor(testId: string) {
    this.element = h('div', { class: 'spark', 'data-testid': testId, 'aria-hidden': 'true' });
  }

  /** Draws `values` at `times` (unix seconds) over the time `range`. */
  draw(times: readonly number[], values: readonly (number | null)[], range: [number, number]): void {
    this.range = range;
    const known = values.filter((value) => value !== null);
    setAttribute(this.element, 'data-points', String(known.length));
    setAttribute(this.element, 'data-last', known.length === 0 ? '' : String(Math.round(known.at(-1) ?? 0)));
    const data: uPlot.AlignedData = [[...times], [...values]];
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    this.plot = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        pxAlign: false,
        legend: { show: false },
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        padding: [1, 0, 1, 0],
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: true, range: () => this.range }, y: { range: [0, 100] } },
        series: [{}, { stroke: STROKE, fill: FILL, width: 1.25, points: { show: false }, spanGaps: false }],
      },
      data,
      this.element,
    );
  }
}
