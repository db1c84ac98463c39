import { IdleTimeHistogram } from './idle-histogram.js';
import { HYBRID_DEFAULTS, decideKeepAlive, fixedDecision } from './hybrid-policy.js';
import type { HybridParams, KeepAliveDecision, KeepAlivePolicyName } from './hybrid-policy.js';

/**
 * One function's keep-alive state, driven by the times it is given (no clock of its own): the
 * scheduler feeds it real arrivals and ends, the simulator virtual ones, and both ask it for the
 * decision. An idle time is recorded when a call arrives while none runs: the time since the last
 * call ended (calls that overlap have no idle time between them).
 */
export class KeepAliveState {
  readonly histogram: IdleTimeHistogram;
  private running = 0;
  private idleFrom: number | undefined;
  private cached: KeepAliveDecision | undefined;
  private fixed: KeepAliveDecision | undefined;
  private cachedAt = 0;
  private cachedSamples = -1;
  private cachedFallback = -1;

  constructor(
    readonly params: HybridParams = HYBRID_DEFAULTS,
    /** A decision is recomputed at most this often while samples keep coming (one bin's width). */
    private readonly refreshMs: number = params.binMs,
  ) {
    this.histogram = new IdleTimeHistogram(params.binMs, params.bins);
  }

  /** Calls running now. */
  get inFlight(): number {
    return this.running;
  }

  /** When the function's last call ended, if none runs now (undefined before its first call, and while calls run). */
  get functionIdleSince(): number | undefined {
    return this.running === 0 ? this.idleFrom : undefined;
  }

  /** A call arrives at `now`. */
  arrive(now: number): void {
    if (this.running === 0 && this.idleFrom !== undefined) this.histogram.record(now - this.idleFrom, now);
    this.running++;
  }

  /** A call ended at `now`. */
  finish(now: number): void {
    if (this.running > 0) this.running--;
    if (this.running === 0) this.idleFrom = now;
  }

  /** The decision at `now` for a policy and the function's fixed keep-alive. */
  decide(now: number, policy: KeepAlivePolicyName, fixedKeepAliveMs: number): KeepAliveDecision {
    if (policy === 'fixed') {
      if (this.fixed?.keepAliveMs !== fixedKeepAliveMs || this.fixed.samples !== this.histogram.samples) {
        this.fixed = fixedDecision(fixedKeepAliveMs, 'fixed', 'fixed keep-alive', this.histogram);
      }
      return this.fixed;
    }
    const samples = this.histogram.samples + this.histogram.outOfRangeSamples + this.histogram.shortCalls;
    const stale = samples !== this.cachedSamples && now - this.cachedAt >= this.refreshMs;
    if (this.cached === undefined || fixedKeepAliveMs !== this.cachedFallback || stale) {
      this.cached = decideKeepAlive(this.histogram, fixedKeepAliveMs, this.params);
      this.cachedAt = now;
      this.cachedSamples = samples;
      this.cachedFallback = fixedKeepAliveMs;
    }
    return this.cached;
  }
}
