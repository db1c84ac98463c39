import uPlot from 'uplot';
import type { LivePoint } from './api.js';

interface ChartSpec {
  readonly title: string;
  readonly series: ReadonlyArray<{ label: string; color: string; value: (p: LivePoint, stepS: number) => number | null }>;
  readonly unit?: string;
}

/** The per-function charts: one uPlot each over the live points. */
export const CHARTS: readonly ChartSpec[] = [
  { title: 'Requests / s', series: [{ label: 'req/s', color: '#3b5bdb', value: (p, s) => p.requests / s }] },
  {
    title: 'Latency (ms)',
    unit: 'ms',
    series: [
      { label: 'p50', color: '#2b8a3e', value: (p) => p.p50 },
      { label: 'p99', color: '#e67700', value: (p) => p.p99 },
    ],
  },
  {
    title: 'Errors and throttles',
    series: [
      { label: 'errors', color: '#c92a2a', value: (p) => p.errors },
      { label: 'throttles', color: '#862e9c', value: (p) => p.throttles },
    ],
  },
  { title: 'Cold starts', series: [{ label: 'cold starts', color: '#0b7285', value: (p) => p.coldStarts }] },
  { title: 'Instances', series: [{ label: 'instances', color: '#5c940d', value: (p) => p.instances }] },
];

export class LiveChart {
  private readonly plot: uPlot;

  constructor(
    private readonly spec: ChartSpec,
    el: HTMLElement,
    private readonly stepS: number,
  ) {
    const width = Math.max(300, el.clientWidth || 400);
    this.plot = new uPlot(
      {
        width,
        height: 180,
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{ stroke: '#6b7385' }, { stroke: '#6b7385', size: 50 }],
        series: [{}, ...spec.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, points: { show: false }, spanGaps: false }))],
      },
      [[], ...spec.series.map(() => [])],
      el,
    );
  }

  setPoints(points: readonly LivePoint[]): void {
    const xs = points.map((p) => p.t / 1000);
    const ys = this.spec.series.map((s) => points.map((p) => s.value(p, this.stepS)));
    this.plot.setData([xs, ...ys] as uPlot.AlignedData);
  }

  destroy(): void {
    this.plot.destroy();
  }
}
