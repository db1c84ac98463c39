import type { IdleTimeHistogram } from './idle-histogram.js';

/** 'fixed': Lambda's keep-alive (a fixed idle time); 'adaptive': the hybrid histogram policy. */
export type KeepAlivePolicyName = 'fixed' | 'adaptive';

export const KEEP_ALIVE_POLICIES: readonly KeepAlivePolicyName[] = ['fixed', 'adaptive'];

/** Parameters of the hybrid histogram policy; the defaults are the paper's. */
export interface HybridParams {
  /** Bin width of the idle-time histogram (1 minute). */
  readonly binMs: number;
  /** Number of bins: the histogram's range is binMs x bins (4 hours). */
  readonly bins: number;
  /** Pre-warm before this percentile of idle times (5th)... */
  readonly headPercentile: number;
  /** ...and keep alive until this one (99th). */
  readonly tailPercentile: number;
  /** Pre-warm this much earlier and keep alive this much longer (10 %). */
  readonly margin: number;
  /** Below this coefficient of variation of the bin counts, idle times show no pattern (2). */
  readonly cvThreshold: number;
  /** At or above this share of idle times beyond the range, the histogram cannot describe the function (0.5). */
  readonly outOfRangeThreshold: number;
  /** Fewer in-range idle times than this are not a histogram yet (the paper has no such floor; one sample already has a high CV). */
  readonly minSamples: number;
  /**
   * n idle times scattered at random over B bins have a coefficient of variation of about
   * sqrt(B / n): a few rare calls look like a pattern by chance. The CV must also reach this
   * multiple of that chance level (not in the paper, which had weeks of samples per app; 0 turns it off).
   */
  readonly chanceFactor: number;
}

export const HYBRID_DEFAULTS: HybridParams = {
  binMs: 60_000,
  bins: 240,
  headPercentile: 0.05,
  tailPercentile: 0.99,
  margin: 0.1,
  cvThreshold: 2,
  outOfRangeThreshold: 0.5,
  minSamples: 5,
  chanceFactor: 1.5,
};

/**
 * What to do with a function's instances once it is idle (no call running).
 *
 * - prewarmMs = 0: idle instances stay loaded for keepAliveMs after they went idle (fixed
 *   keep-alive, or a histogram whose head is in the first minute).
 * - prewarmMs > 0: idle instances are unloaded as soon as the function is idle; one instance is
 *   started prewarmMs after that moment and kept until keepAliveMs after it.
 */
export interface KeepAliveDecision {
  readonly policy: KeepAlivePolicyName;
  /** 'histogram': windows from the idle-time histogram; 'fixed': the fixed keep-alive (the fixed policy, or the adaptive policy's fallback). */
  readonly mode: 'fixed' | 'histogram';
  /** Why this mode, in words (shown by the API and the dashboard). */
  readonly reason: string;
  readonly prewarmMs: number;
  readonly keepAliveMs: number;
  /** The fixed keep-alive: it also governs instances that go idle while other calls of the function still run. */
  readonly fixedKeepAliveMs: number;
  /** Idle times recorded inside the range, beyond it, and the bin counts' coefficient of variation. */
  readonly samples: number;
  readonly outOfRange: number;
  readonly cv: number;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function minutes(ms: number): string {
  return `${round(ms / 60_000, 1)} min`;
}

/** The fixed keep-alive (policy 'fixed', or the adaptive policy's fallback, which says why). */
export function fixedDecision(keepAliveMs: number, policy: KeepAlivePolicyName = 'fixed', reason = 'fixed keep-alive', histogram?: IdleTimeHistogram): KeepAliveDecision {
  return {
    policy,
    mode: 'fixed',
    reason,
    prewarmMs: 0,
    keepAliveMs: Math.max(0, keepAliveMs),
    fixedKeepAliveMs: Math.max(0, keepAliveMs),
    samples: histogram?.samples ?? 0,
    outOfRange: histogram?.outOfRangeSamples ?? 0,
    cv: round(histogram?.cv() ?? 0),
  };
}

/**
 * The hybrid histogram policy: a pure function of the function's idle-time histogram.
 *
 * When the histogram is representative (enough samples, most of them in range, and a coefficient
 * of variation of the bin counts at or above the threshold): pre-warm at the head percentile's bin
 * start minus the margin, keep alive until the tail percentile's bin end plus the margin.
 * Otherwise: the fixed keep-alive (`fallbackKeepAliveMs`). The paper forecasts idle times beyond
 * the range with ARIMA; modelfn falls back to the fixed keep-alive there too.
 */
export function decideKeepAlive(histogram: IdleTimeHistogram, fallbackKeepAliveMs: number, params: HybridParams = HYBRID_DEFAULTS): KeepAliveDecision {
  const samples = histogram.samples;
  const oob = histogram.outOfRangeRate;
  if (samples + histogram.outOfRangeSamples > 0 && oob >= params.outOfRangeThreshold) {
    return fixedDecision(fallbackKeepAliveMs, 'adaptive', `${Math.round(oob * 100)} % of idle times are longer than the histogram's ${minutes(histogram.rangeMs)}`, histogram);
  }
  if (samples < params.minSamples) {
    return fixedDecision(fallbackKeepAliveMs, 'adaptive', `${samples} idle time${samples === 1 ? '' : 's'} recorded; the histogram needs ${params.minSamples}`, histogram);
  }
  const cv = histogram.cv();
  if (cv < params.cvThreshold) {
    return fixedDecision(fallbackKeepAliveMs, 'adaptive', `idle times show no pattern (coefficient of variation ${round(cv)} < ${params.cvThreshold})`, histogram);
  }
  const chance = params.chanceFactor * Math.sqrt(histogram.bins / samples);
  if (cv < chance) {
    return fixedDecision(fallbackKeepAliveMs, 'adaptive', `${samples} idle times could fall this way by chance (coefficient of variation ${round(cv)} < ${round(chance)})`, histogram);
  }
  // The head over calls (a call within the pre-warm window finds nothing loaded), the tail over
  // samples (calls within a bin of each other are one observation, as in the paper's per-minute trace).
  const head = histogram.percentileBin(params.headPercentile, true);
  const tail = Math.max(head, histogram.percentileBin(params.tailPercentile));
  const prewarmMs = head * histogram.binMs * (1 - params.margin);
  const keepAliveMs = (tail + 1) * histogram.binMs * (1 + params.margin);
  const pct = (p: number) => `${Math.round(p * 100)}th percentile`;
  return {
    policy: 'adaptive',
    mode: 'histogram',
    reason:
      prewarmMs > 0
        ? `${pct(params.headPercentile)} idle time in minute ${head}, ${pct(params.tailPercentile)} in minute ${tail}: unload when idle, pre-warm after ${minutes(prewarmMs)}, keep until ${minutes(keepAliveMs)}`
        : `${pct(params.tailPercentile)} idle time in minute ${tail}: keep alive ${minutes(keepAliveMs)}`,
    prewarmMs,
    keepAliveMs,
    fixedKeepAliveMs: Math.max(0, fallbackKeepAliveMs),
    samples,
    outOfRange: histogram.outOfRangeSamples,
    cv: round(cv),
  };
}

/**
 * When an idle instance stops under a decision. functionIdleSince is when the function's last call
 * ended (undefined while any call of it runs); newest says this is the instance that went idle
 * last (the one the next call would get).
 *
 * The histogram predicts when the next call comes after the whole function went idle, so it keeps
 * one instance loaded (or pre-warms one); it says nothing about how many instances a busy function
 * needs. An instance that goes idle while other calls run follows the fixed keep-alive (scale-down
 * as on Lambda). Once the function is idle, a pre-warm decision unloads every instance at once;
 * otherwise the newest instance stays until keepAliveMs after the function went idle and the
 * others until their fixed keep-alive or that moment, whichever comes first.
 */
export function instanceStopAt(decision: KeepAliveDecision, instanceIdleSince: number, functionIdleSince: number | undefined, newest: boolean): number {
  if (decision.mode === 'fixed') return instanceIdleSince + decision.keepAliveMs;
  const fixed = instanceIdleSince + decision.fixedKeepAliveMs;
  if (functionIdleSince === undefined) return fixed;
  if (decision.prewarmMs > 0) return Math.max(instanceIdleSince, functionIdleSince);
  const histogramEnd = functionIdleSince + decision.keepAliveMs;
  return newest ? Math.max(instanceIdleSince, histogramEnd) : Math.max(instanceIdleSince, Math.min(fixed, histogramEnd));
}

/** The pre-warm window that follows the function going idle, or undefined when the decision has none. */
export function prewarmWindow(decision: KeepAliveDecision, functionIdleSince: number): { readonly startAt: number; readonly stopAt: number } | undefined {
  if (!(decision.prewarmMs > 0) || decision.keepAliveMs <= decision.prewarmMs) return undefined;
  return { startAt: functionIdleSince + decision.prewarmMs, stopAt: functionIdleSince + decision.keepAliveMs };
}

/** An idle instance as the keep-alive sees it. */
export interface IdleInstanceView {
  readonly id: string;
  readonly idleSince: number;
  /** A pre-warmed instance is kept until then, whatever the decision says. */
  readonly holdUntil?: number;
}

/** The idle instances (given oldest first, newest last) whose keep-alive has run out at `now`. */
export function idleInstancesToStopAt(idle: readonly IdleInstanceView[], now: number, decision: KeepAliveDecision, functionIdleSince: number | undefined): string[] {
  const out: string[] = [];
  for (let i = 0; i < idle.length; i++) {
    const pi = idle[i]!;
    const stopAt = pi.holdUntil ?? instanceStopAt(decision, pi.idleSince, functionIdleSince, i === idle.length - 1);
    if (now >= stopAt) out.push(pi.id);
  }
  return out;
}
