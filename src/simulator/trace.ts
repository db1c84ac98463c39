/**
 * An invocation trace: per function, its invocations in time order. Generated traces produce their
 * invocations on demand (the same ones every time, from a seed), so a trace of tens of millions of
 * calls never sits in memory; loaded traces keep theirs in typed arrays.
 */
export interface TraceFunction {
  readonly name: string;
  readonly memoryMb: number;
  /** How the generator made it (timer, poisson, bursty, ...), or 'csv'. */
  readonly kind: string;
  /** Calls visit(arrival ms, duration ms) for each invocation, in time order. */
  forEach(visit: (atMs: number, durationMs: number) => void): void;
  /** The same invocations, pulled one at a time (to merge every function into one timeline). */
  cursor(): TraceCursor;
}

/** Invocations pulled in time order: next() moves to the next one (false when none is left). */
export interface TraceCursor {
  next(): boolean;
  readonly atMs: number;
  readonly durationMs: number;
}

export interface Trace {
  readonly functions: readonly TraceFunction[];
  /** The trace's time span (ms, same origin as the arrivals). */
  readonly startMs: number;
  readonly endMs: number;
  /** One line saying where the trace came from. */
  readonly description: string;
}

/** A function whose invocations are held in arrays (sorted by arrival). */
export class StoredFunction implements TraceFunction {
  constructor(
    readonly name: string,
    readonly memoryMb: number,
    private readonly arrivals: Float64Array,
    private readonly durations: Float64Array,
    readonly kind = 'csv',
  ) {}

  get invocations(): number {
    return this.arrivals.length;
  }

  forEach(visit: (atMs: number, durationMs: number) => void): void {
    for (let i = 0; i < this.arrivals.length; i++) visit(this.arrivals[i]!, this.durations[i]!);
  }

  cursor(): TraceCursor {
    const { arrivals, durations } = this;
    let i = -1;
    return {
      next: () => ++i < arrivals.length,
      get atMs() {
        return arrivals[i]!;
      },
      get durationMs() {
        return durations[i]!;
      },
    };
  }
}
