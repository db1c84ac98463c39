/**
 * A range-limited histogram of a function's idle times (the time from the end of its last call to
 * the next arrival), as in Serverless in the Wild (Shahrad et al., USENIX ATC 2020): fixed-width
 * bins (1 minute) over a fixed range (4 hours); longer idle times are only counted as out of range.
 * It keeps the sum of squared bin counts so that the coefficient of variation of the counts is O(1).
 *
 * Idle times are sampled at the histogram's resolution, one bin: an idle time shorter than a bin
 * counts as a sample only when no sample was taken in the bin width before it (the paper's
 * histograms come from per-minute invocation counts, where the calls of one minute are one
 * observation). The others are still counted apart (`shortCalls`): each of them is a call that an
 * instance unloaded at once would have met cold, which matters for the pre-warm decision (the head),
 * not for how long to keep an instance (the tail) or whether idle times form a pattern (the CV).
 * Counting every call of a burst put most samples in the first bin: the coefficient of variation
 * was high for any bursty caller, however random its bursts, so the histogram passed as a pattern,
 * and the 99th percentile of calls, set by the gaps between bursts, kept it loaded for hours.
 */
export class IdleTimeHistogram {
  readonly counts: Uint32Array;
  private inRange = 0;
  private outOfRange = 0;
  private sumOfSquares = 0;
  private short = 0;
  private lastSampleAt = -Infinity;
  /** Samples at or beyond each bin (index bins: beyond the range), rebuilt lazily after a record. */
  private suffix: Float64Array | undefined;

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

  /** Idle times shorter than a bin that came within a bin width of the previous sample: calls, not samples. */
  get shortCalls(): number {
    return this.short;
  }

  /** Share of all idle times that fell beyond the range (0 without samples). */
  get outOfRangeRate(): number {
    const all = this.inRange + this.outOfRange;
    return all === 0 ? 0 : this.outOfRange / all;
  }

  /**
   * Record the idle time that ended at `atMs` (the arrival; omit it to record a sample whatever
   * came before). An idle time shorter than a bin within a bin width of the previous sample is
   * counted as a short call, not as a sample.
   */
  record(idleMs: number, atMs?: number): void {
    if (atMs !== undefined) {
      if (idleMs < this.binMs && atMs - this.lastSampleAt < this.binMs) {
        this.short++;
        return;
      }
      this.lastSampleAt = atMs;
    }
    this.suffix = undefined;
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

  /**
   * Index of the first bin at which the cumulative share of in-range samples reaches p (0..1).
   * With `withShortCalls`, the short calls count too (in the first bin): the share of calls, not of
   * samples, that came within each bin.
   */
  percentileBin(p: number, withShortCalls = false): number {
    const extra = withShortCalls ? this.short : 0;
    if (this.inRange === 0) return 0;
    const target = p * (this.inRange + extra);
    let cumulative = extra;
    for (let i = 0; i < this.bins; i++) {
      cumulative += this.counts[i]!;
      if (cumulative >= target && cumulative > 0) return i;
    }
    return this.bins - 1;
  }

  /**
   * Idle times recorded that lasted at least `ms` (samples spread evenly within a bin; those beyond
   * the range always count): the survival count the warm-memory budget's call probability is built on.
   */
  atLeast(ms: number): number {
    if (this.suffix === undefined) {
      const suffix = new Float64Array(this.bins + 1);
      suffix[this.bins] = this.outOfRange;
      for (let i = this.bins - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + this.counts[i]!;
      this.suffix = suffix;
    }
    if (!(ms > 0)) return this.suffix[0]!;
    const x = ms / this.binMs;
    const bin = Math.floor(x);
    if (bin >= this.bins) return this.outOfRange;
    return this.suffix[bin + 1]! + this.counts[bin]! * (1 - (x - bin));
  }
}
