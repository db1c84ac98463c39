import { Random } from './random.js';
import type { Trace, TraceCursor, TraceFunction } from './trace.js';

/**
 * Synthetic FaaS traces with the published shape of a real workload (Shahrad et al., "Serverless
 * in the Wild", USENIX ATC 2020, Azure Functions 2019):
 *
 * - invocation rates spread over 8 orders of magnitude across functions (0.1 to 10^7 a day), with
 *   45 % of functions invoked at most once an hour and 81 % at most once a minute (the paper's
 *   Figure 5 CDF, piecewise log-uniform between those points);
 * - timers (the paper: 15.6 % of functions are timer-triggered, and about a fifth of apps have
 *   near-periodic arrivals), some with extra unscheduled calls; random (Poisson) callers with a
 *   daily rhythm; bursty callers (many apps have inter-arrival CV > 1);
 * - execution times log-normal with the paper's fit (mu = -0.38, sigma = 2.36 for a function's
 *   mean, in seconds), memory log-normal around the paper's median of 170 MB (90 % under 400 MB).
 *
 * Every function has its own random streams derived from the seed, so a trace is the same on every
 * run and for every policy replayed against it.
 */
export interface GeneratorOptions {
  readonly seed: number;
  readonly functions: number;
  readonly days: number;
  /** Functions drawn above this rate are generated at it (calls that fast keep any policy warm; the cap bounds the run time). */
  readonly maxPerDay: number;
}

export const GENERATOR_DEFAULTS: GeneratorOptions = { seed: 1, functions: 200, days: 3, maxPerDay: 1e5 };

const DAY = 86_400_000;
const MINUTE = 60_000;

/** (quantile, log10 calls per day): the paper's CDF of per-function daily invocations. */
const RATE_CDF: ReadonlyArray<readonly [number, number]> = [
  [0, -1],
  [0.45, Math.log10(24)],
  [0.81, Math.log10(1440)],
  [1, 7],
];

/** Timer periods (minutes) and how common they are. */
const TIMER_PERIODS: ReadonlyArray<readonly [number, number]> = [
  [1, 15], [5, 15], [10, 7], [15, 10], [30, 10], [60, 18], [120, 5], [240, 5], [360, 4], [720, 4], [1440, 7],
];

type Kind = 'timer' | 'timer+random' | 'poisson' | 'bursty';

/** Calls per day at quantile q of the rate CDF. */
export function dailyRateAt(q: number): number {
  for (let i = 1; i < RATE_CDF.length; i++) {
    const [q1, l1] = RATE_CDF[i]!;
    const [q0, l0] = RATE_CDF[i - 1]!;
    if (q <= q1) return 10 ** (l0 + ((q - q0) / (q1 - q0)) * (l1 - l0));
  }
  return 10 ** RATE_CDF[RATE_CDF.length - 1]![1];
}

/** An arrival stream: next() returns the next arrival time (ms) or Infinity when done. */
interface Stream {
  next(): number;
}

function timerStream(rng: Random, periodMs: number, endMs: number): Stream {
  let slot = rng.uniform(0, periodMs);
  return {
    next: () => {
      if (slot >= endMs) return Infinity;
      // A timer fires on its schedule; the call starts a little late (scheduling, queueing).
      const at = slot + rng.exponential(500);
      slot += periodMs;
      return at;
    },
  };
}

function poissonStream(rng: Random, perDay: number, endMs: number): Stream {
  // A daily rhythm (amplitude 0.5) by thinning a Poisson process at the peak rate.
  const amplitude = 0.5;
  const phase = rng.uniform(0, 2 * Math.PI);
  const peakMean = DAY / (perDay * (1 + amplitude));
  let t = 0;
  return {
    next: () => {
      for (;;) {
        t += rng.exponential(peakMean);
        if (t >= endMs) return Infinity;
        if (rng.next() * (1 + amplitude) <= 1 + amplitude * Math.sin((2 * Math.PI * t) / DAY + phase)) return t;
      }
    },
  };
}

function burstyStream(rng: Random, perDay: number, endMs: number): Stream {
  const meanBurst = 10;
  const burstGapMean = DAY / Math.max(perDay / meanBurst, 1e-9);
  let t = rng.exponential(burstGapMean);
  let left = rng.geometric(meanBurst);
  let started = false;
  return {
    next: () => {
      if (left === 0) {
        t += rng.exponential(burstGapMean);
        left = rng.geometric(meanBurst);
      } else if (started) {
        t += rng.exponential(2000);
      }
      started = true;
      if (t >= endMs) return Infinity;
      left--;
      return t;
    },
  };
}

class GeneratedFunction implements TraceFunction {
  constructor(
    readonly name: string,
    readonly kind: Kind,
    readonly memoryMb: number,
    readonly perDay: number,
    private readonly meanDurationMs: number,
    private readonly make: () => Stream[],
    private readonly durationSeed: number,
  ) {}

  forEach(visit: (atMs: number, durationMs: number) => void): void {
    const c = this.cursor();
    while (c.next()) visit(c.atMs, c.durationMs);
  }

  cursor(): TraceCursor {
    const streams = this.make();
    const heads = streams.map((s) => s.next());
    const durations = new Random(this.durationSeed);
    const sigma = 0.6;
    const mean = this.meanDurationMs;
    const c = {
      atMs: NaN,
      durationMs: NaN,
      next(): boolean {
        let k = 0;
        for (let i = 1; i < heads.length; i++) if (heads[i]! < heads[k]!) k = i;
        const at = heads[k]!;
        if (at === Infinity) return false;
        heads[k] = streams[k]!.next();
        const d = mean * Math.exp(sigma * durations.normal() - (sigma * sigma) / 2);
        c.atMs = at;
        c.durationMs = Math.min(600_000, Math.max(1, d));
        return true;
      },
    };
    return c;
  }
}

/** Generate a trace (its invocations are produced when replayed). */
export function generateTrace(options: Partial<GeneratorOptions> = {}): Trace & { readonly capped: number } {
  const o = { ...GENERATOR_DEFAULTS, ...options };
  const endMs = o.days * DAY;
  const functions: GeneratedFunction[] = [];
  let capped = 0;
  for (let i = 0; i < o.functions; i++) {
    const rng = Random.stream(o.seed, i * 4);
    const kind = rng.pick<Kind>([['timer', 0.14], ['timer+random', 0.06], ['poisson', 0.5], ['bursty', 0.3]]);
    const memoryMb = Math.min(3008, Math.max(128, Math.ceil(rng.logNormal(Math.log(170), 0.667) / 64) * 64));
    const meanDurationMs = Math.min(600_000, Math.max(1, rng.logNormal(-0.38, 2.36) * 1000));
    const arrivalSeed = Math.floor(rng.next() * 2 ** 32);
    const durationSeed = Math.floor(rng.next() * 2 ** 32);
    let perDay: number;
    let make: () => Stream[];
    if (kind === 'timer' || kind === 'timer+random') {
      const period = rng.pick(TIMER_PERIODS) * MINUTE;
      const extra = kind === 'timer+random' ? dailyRateAt(rng.uniform(0, 0.45)) : 0;
      perDay = DAY / period + extra;
      make = () => {
        const r = new Random(arrivalSeed);
        return extra > 0 ? [timerStream(r, period, endMs), poissonStream(new Random(arrivalSeed ^ 0x5bd1e995), extra, endMs)] : [timerStream(r, period, endMs)];
      };
    } else {
      let rate = dailyRateAt(rng.next());
      if (rate > o.maxPerDay) {
        rate = o.maxPerDay;
        capped++;
      }
      perDay = rate;
      make = () => [kind === 'poisson' ? poissonStream(new Random(arrivalSeed), rate, endMs) : burstyStream(new Random(arrivalSeed), rate, endMs)];
    }
    functions.push(new GeneratedFunction(`fn-${String(i).padStart(4, '0')}`, kind, memoryMb, perDay, meanDurationMs, make, durationSeed));
  }
  return {
    functions,
    startMs: 0,
    endMs,
    capped,
    description: `synthetic trace: seed ${o.seed}, ${o.functions} functions, ${o.days} days (rates 10^-1..10^7 a day, capped at ${o.maxPerDay.toExponential(0)} a day: ${capped} functions)`,
  };
}
