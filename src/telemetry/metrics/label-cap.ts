/** The label values every function series carries. */
export interface SeriesLabels {
  readonly function: string;
  readonly version: string;
}

export const OTHER: SeriesLabels = Object.freeze({ function: 'other', version: 'other' });

interface Slot<T> {
  readonly labels: SeriesLabels;
  readonly value: T;
  lastSeen: number;
  /** When the slot last moved to the back of the LRU order. */
  movedAt: number;
}

/**
 * Bounded label cardinality for per-function metrics. At most `maxSeries` distinct
 * (function, version) pairs get series of their own; a new pair past the cap takes the slot of
 * the least recently seen pair if that one has been quiet for `evictIdleMs` (its series are
 * dropped and `onEvict` is told), otherwise it is counted under function="other",
 * version="other". So the series are those of the most recently active functions, a scrape never
 * grows without bound, and a busy function is never moved between series mid-burst.
 *
 * Each slot holds a value (the series' counters) made by `create`, so the hot path is one map
 * lookup per record.
 */
export class LabelCap<T> {
  // Map iteration order is insertion order: re-inserting on use keeps the least recent first.
  private readonly admitted = new Map<string, Slot<T>>();
  private other: Slot<T> | undefined;

  constructor(
    readonly maxSeries: number,
    private readonly evictIdleMs: number,
    private readonly create: (labels: SeriesLabels) => T,
    private readonly onEvict: (labels: SeriesLabels, value: T) => void = () => undefined,
  ) {
    if (maxSeries < 1) throw new Error('maxSeries must be at least 1');
  }

  /** The series to record (name, version) in at `now`. */
  get(functionName: string, version: string, now: number): T {
    return this.slot(functionName, version, now).value;
  }

  /** The labels (name, version) is recorded under at `now`. */
  labelsFor(functionName: string, version: string, now: number): SeriesLabels {
    return this.slot(functionName, version, now).labels;
  }

  /** Every series, "other" last. */
  *entries(): IterableIterator<[SeriesLabels, T]> {
    for (const slot of this.admitted.values()) yield [slot.labels, slot.value];
    if (this.other) yield [this.other.labels, this.other.value];
  }

  /** Drop every series of a deleted function. */
  forget(functionName: string): void {
    for (const [key, slot] of this.admitted) {
      if (slot.labels.function !== functionName) continue;
      this.admitted.delete(key);
      this.onEvict(slot.labels, slot.value);
    }
  }

  /** Series with labels of their own (without "other"). */
  get size(): number {
    return this.admitted.size;
  }

  private slot(functionName: string, version: string, now: number): Slot<T> {
    const key = `${functionName}\u0000${version}`;
    const known = this.admitted.get(key);
    if (known) {
      // Re-insert at most once a second: that is what keeps the order least recent first.
      if (now - known.movedAt >= 1000) {
        this.admitted.delete(key);
        this.admitted.set(key, known);
        known.movedAt = now;
      }
      known.lastSeen = Math.max(known.lastSeen, now);
      return known;
    }
    if (this.admitted.size >= this.maxSeries) {
      const [oldestKey, oldest] = this.admitted.entries().next().value!;
      if (now - oldest.lastSeen < this.evictIdleMs) {
        this.other ??= { labels: OTHER, value: this.create(OTHER), lastSeen: now, movedAt: now };
        return this.other;
      }
      this.admitted.delete(oldestKey);
      this.onEvict(oldest.labels, oldest.value);
    }
    const labels = Object.freeze({ function: functionName, version });
    const slot = { labels, value: this.create(labels), lastSeen: now, movedAt: now };
    this.admitted.set(key, slot);
    return slot;
  }
}
