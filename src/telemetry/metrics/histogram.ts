/**
 * A fixed-bucket histogram kept as plain numbers: observe() is a short scan and two adds, so it
 * can sit beside every invocation. The exposition (cumulative buckets) is built at scrape time.
 */
export class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }

  /** Add n observations that all fell at `value` (a batch-size count, say). */
  observeMany(value: number, n: number): void {
    this.sum += value * n;
    this.count += n;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]!) {
        this.counts[i]! += n;
        return;
      }
    }
  }

  /** Cumulative counts per bound, then +Inf. */
  cumulative(): number[] {
    const out: number[] = [];
    let running = 0;
    for (let i = 0; i < this.counts.length; i++) {
      running += this.counts[i]!;
      out.push(running);
    }
    out.push(this.count);
    return out;
  }

  /** The value below which a fraction q of observations fell, interpolated within its bucket. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = q * this.count;
    let running = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i]!;
      if (running + c >= rank && c > 0) {
        const lower = i === 0 ? 0 : this.bounds[i - 1]!;
        return lower + (this.bounds[i]! - lower) * ((rank - running) / c);
      }
      running += c;
    }
    return this.bounds.at(-1)!;
  }
}

export const DURATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
export const INIT_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
