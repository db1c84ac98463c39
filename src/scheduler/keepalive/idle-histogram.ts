/**
 * A range-limited histogram of a function's idle times (the time from the end of its last call to
 * the next arrival), as in Serverless in the Wild (Shahrad et al., USENIX ATC 2020): fixed-width
 * bins (1 minute) over a fixed range (4 hours); longer idle times are only counted as out of range.
 * It keeps the sum of squared bin counts so that the coefficient of variation of the counts is O(1).
 */
export class IdleTimeHistogram {
  readonly counts: Uint32Array;
  private inRange = 0;
  private outOfRange = 0;
  private sumOfSquares = 0;

  constructor(
    readonly binMs: number,
    readonly bins: number,
  ) {
    if (!(binMs > 0) || !Number.isInteger(bins) || bins < 2) throw new RangeError('an idle-time histogram needs a positive bin width and at least 2 bins');
    this.counts = new Uint32Array(bins);
  }

  /** The histogram's range in ms: idle times at or beyond it are out of range. */
  get rangeMs(): number {
    return this.binMs * this.bins;
  }

  /** Idle times recorded inside the range. */
  get samples(): number {
    return this.inRange;
  }

  /** Idle times recorded beyond the range. */
  get outOfRangeSamples(): number {
    return this.outOfRange;
  }

  /** Share of all idle times that fell beyond the range (0 without samples). */
  get outOfRangeRate(): number {
    const all = this.inRange + this.outOfRange;
    return all === 0 ? 0 : this.outOfRange / all;
  }

  record(idleMs: number): void {
    const bin = Math.floor(Math.max(0, idleMs) / this.binMs);
    if (!(bin < this.bins)) {
      this.outOfRange++;
      return;
    }
    const c = this.counts[bin]!;
    this.sumOfSquares += 2 * c + 1;
    this.counts[bin] = c + 1;
    this.inRange++;
  }

  /**
   * Coefficient of variation of the bin counts (sample standard deviation over the mean): high
   * when idle times gather in a few bins (a pattern), near 0 when they spread evenly (none).
   * 0 without samples.
   */
  cv(): number {
    if (this.inRange === 0) return 0;
    const n = this.bins;
    const mean = this.inRange / n;
    const variance = Math.max(0, (this.sumOfSquares - n * mean * mean) / (n - 1));
    return Math.sqrt(variance) / mean;
  }

  /** Index of the first bin at which the cumulative share of in-range samples reaches p (0..1). */
  percentileBin(p: number): number {
    if (this.inRange === 0) return 0;
    const target = p * this.inRange;
    let cumulative = 0;
    for (let i = 0; i < this.bins; i++) {
      cumulative += this.counts[i]!;
      if (cumulative >= target && cumulative > 0) return i;
    }
    return this.bins - 1;
  }
}
