import type { IdleTimeHistogram } from './idle-histogram.js';

/**
 * A platform-level budget for warm idle memory (instances loaded but serving nothing).
 *
 * Each function's adaptive keep-alive decides alone; on its own it spends more idle memory than a
 * fixed keep-alive on functions whose histograms keep long tails, and less on timers. The budget
 * holds the platform's idle memory to an allowance and, when the keep-alive decisions would exceed
 * it, unloads the idle instances (or skips the pre-warms) that avoid the fewest cold starts per
 * GB-s they would still cost.
 *
 * The allowance is, by default, what the functions' own fixed keep-alive would hold idle given the
 * same calls (a shadow, FixedKeepAliveShadow), and it is enforced cumulatively, as a credit: the
 * shadow's GB-s accrued minus the GB-s spent so far. Adaptive may hold more than the shadow at a
 * moment only out of what it saved earlier (a timer unloaded between its ticks saves for a random
 * caller's tail later); an instant-by-instant cap would waste those savings, because what the
 * timers save and when the others would spend it rarely line up. With an absolute cap (capMb), the
 * allowance is capMb at every moment and no credit is carried (the cap is a limit on memory at
 * any time, not on average).
 *
 * Pure: driven by the times and amounts it is given; the simulator and the scheduler's reaper call it.
 */
export interface WarmBudgetOptions {
  /** An absolute cap on idle memory (MB) instead of the fixed keep-alive's shadow. */
  readonly capMb?: number;
  /** Credit carried at most (MB x ms); default: unlimited with the shadow, none with a cap (which carries no debt either). */
  readonly maxCreditMbMs?: number;
  /** The clearing price halves in this time while the budget does not bind (default 1 hour). */
  readonly priceHalfLifeMs?: number;
}

/**
 * Idle memory the budget may take back: a function's last idle instance (whether the function stays
 * loaded, which is what its idle-time histogram predicts), or a pre-warm planned or running. A
 * function's other idle instances are scale-down capacity: they follow the fixed keep-alive under
 * either policy, as they do in the shadow, and the histogram says nothing of how likely a call is
 * to need them.
 */
export interface WarmHolding {
  readonly id: string;
  readonly kind: 'idle' | 'prewarm';
  readonly memoryMb: number;
  /** The origin of the idle time the histogram describes (when the function's last call ended). */
  readonly idleSince: number;
  /** When it costs memory from: now or earlier for a loaded instance, the start for a planned pre-warm. */
  readonly startAt: number;
  /** When the keep-alive would unload it anyway. */
  readonly stopAt: number;
  /** The function's idle-time histogram. */
  readonly histogram: IdleTimeHistogram;
}

export interface BudgetRelease {
  readonly id: string;
  readonly kind: 'idle' | 'prewarm';
  /** Expected calls it would have served per GB-s it would have cost. */
  readonly value: number;
  /** Why, in words (the keep-alive status shows it). */
  readonly reason: string;
}

const GB_S = 1024 * 1000; // MB x ms in one GB x s

/**
 * The probability that the function's next call comes in [fromAgeMs, toAgeMs) of idle time, given
 * that it has been idle for fromAgeMs, from its idle-time histogram. One pseudo-observation of "never
 * again" keeps a function with little history from looking certain.
 */
export function callProbability(histogram: IdleTimeHistogram, fromAgeMs: number, toAgeMs: number): number {
  if (!(toAgeMs > fromAgeMs)) return 0;
  const alive = histogram.atLeast(fromAgeMs);
  return Math.max(0, alive - histogram.atLeast(toAgeMs)) / (alive + 1);
}

/**
 * What a holding is worth: the most expected calls per GB-s it can serve, over the ways of keeping
 * it from `now` (or its start) until some moment T up to its stop. For each T: the probability that
 * the next call comes before T over the expected idle memory-time until then (an instance stops
 * being idle when the call comes), from the function's idle-time histogram; the best T is its
 * index, as for optimal stopping. Averaging over the whole remaining keep-alive instead undervalues
 * an instance whose calls come soon but whose histogram also has a long thin tail, and the whole
 * instance would go for the tail's sake; the next minute alone undervalues one whose calls come
 * in a later mode (a timer after the first minute).
 */
export function holdingValue(h: WarmHolding, now: number): number {
  const hist = h.histogram;
  const fromAge = Math.max(0, Math.max(now, h.startAt) - h.idleSince);
  // Beyond the histogram's range its survival is flat: keeping longer adds cost and no calls.
  const toAge = Math.min(h.stopAt - h.idleSince, hist.rangeMs);
  if (!(toAge > fromAge) || !(h.memoryMb > 0)) return 0;
  let best = 0;
  let area = 0;
  let t = fromAge;
  let survival = 1;
  for (let edge = (Math.floor(fromAge / hist.binMs) + 1) * hist.binMs; t < toAge; edge += hist.binMs) {
    const next = Math.min(edge, toAge);
    // Still idle at `next`, given idle until fromAge.
    const s = 1 - callProbability(hist, fromAge, next);
    // Samples are spread evenly within a bin: the survival is linear between bin edges.
    area += ((survival + s) / 2) * (next - t);
    if (area > 0) best = Math.max(best, (1 - s) / area);
    t = next;
    survival = s;
  }
  return (best * 1000) / (h.memoryMb / 1024);
}

/** MB x ms a holding costs within [now, now + horizonMs). */
function costWithin(h: WarmHolding, now: number, horizonMs: number): number {
  return h.memoryMb * Math.max(0, Math.min(now + horizonMs, h.stopAt) - Math.max(now, h.startAt));
}

export class WarmMemoryBudget {
  private credit = 0;
  private allowanceTotal = 0;
  private spentTotal = 0;
  private releasedIdle = 0;
  private skippedPrewarms = 0;
  /** What select() expected to be spent and allowed over its horizon (to measure how far off it was). */
  private expected: { spend: number; allowance: number } | undefined;
  /** The most an interval overran what select() expected: held back from the next ones. */
  private reserve = 0;
  /**
   * The clearing price (expected calls per GB-s): the value of the most valuable holding the budget
   * last had to give up. Holdings worth less are given up even while the credit would pay for them:
   * the credit is better kept for holdings worth more than what the budget gives up when it binds.
   * It decays while the budget does not bind, so that credit does not pile up unspent.
   */
  private price = 0;
  private priceAt: number | undefined;
  readonly maxCreditMbMs: number;

  constructor(readonly options: WarmBudgetOptions = {}) {
    this.maxCreditMbMs = options.maxCreditMbMs ?? (options.capMb !== undefined ? 0 : Infinity);
  }

  /** Credit now (MB x ms): what may still be spent beyond the allowance. */
  get creditMbMs(): number {
    return this.credit;
  }

  /** Totals so far, for reports. */
  get stats(): { readonly allowanceGbS: number; readonly spentGbS: number; readonly releasedIdle: number; readonly skippedPrewarms: number } {
    return { allowanceGbS: this.allowanceTotal / GB_S, spentGbS: this.spentTotal / GB_S, releasedIdle: this.releasedIdle, skippedPrewarms: this.skippedPrewarms };
  }

  /**
   * Account an interval of `intervalMs`: the shadow held shadowMbMs idle, the functions spentMbMs.
   * With a cap, the allowance is the cap over the interval, whatever the shadow held.
   */
  accrue(intervalMs: number, shadowMbMs: number, spentMbMs: number): void {
    const allowance = this.options.capMb !== undefined ? this.options.capMb * Math.max(0, intervalMs) : shadowMbMs;
    this.allowanceTotal += allowance;
    this.spentTotal += spentMbMs;
    // Under a cap the limit is on memory at each moment: what went over it between two selections is not paid back.
    this.credit = Math.min(this.maxCreditMbMs, this.credit + allowance - spentMbMs);
    if (this.options.capMb !== undefined) this.credit = Math.max(0, this.credit);
    // Instances that go idle between two selections were not foreseen (nor were the shadow's); the
    // largest net overrun so far is kept in reserve so that the credit does not end in debt.
    if (this.expected && this.options.capMb === undefined) this.reserve = Math.max(this.reserve, spentMbMs - this.expected.spend - (allowance - this.expected.allowance));
    this.expected = undefined;
  }

  /**
   * Which holdings to give up now so that what they cost over the next horizonMs, with the idle
   * memory it cannot take (committedMbMs), fits the credit plus the allowance of that horizon
   * (shadowProjectedMbMs: what the shadow will hold in it). The least valuable go first; while it
   * fits, only those worth less than the clearing price go.
   */
  select(now: number, holdings: readonly WarmHolding[], horizonMs: number, shadowProjectedMbMs: number, committedMbMs = 0): BudgetRelease[] {
    const allowance = this.options.capMb !== undefined ? this.options.capMb * horizonMs : shadowProjectedMbMs;
    // A debt (an overrun) is paid back too: the room can be negative, and then everything goes.
    const room = this.credit + allowance - this.reserve;
    // Idle memory the budget cannot take (scale-down capacity) spends from the room all the same.
    let spend = committedMbMs;
    for (const h of holdings) spend += costWithin(h, now, horizonMs);
    this.expected = { spend, allowance };
    const binding = spend > room;
    if (!binding && this.priceAt !== undefined) this.price *= 2 ** (-Math.max(0, now - this.priceAt) / (this.options.priceHalfLifeMs ?? 3_600_000));
    this.priceAt = now;
    if (!binding && !(this.price > 0)) return [];
    const ranked = holdings.map((h) => ({ h, value: holdingValue(h, now) })).sort((a, b) => a.value - b.value);
    const out: BudgetRelease[] = [];
    let cleared = 0;
    const budget = this.options.capMb !== undefined ? `the ${Math.round(this.options.capMb)} MB cap` : 'what the fixed keep-alive would hold';
    for (const { h, value } of ranked) {
      const over = spend > room;
      if (!over && value >= this.price) break;
      const cost = costWithin(h, now, horizonMs);
      if (over && cost <= 0) continue;
      spend -= cost;
      if (over) cleared = Math.max(cleared, value);
      if (h.kind === 'idle') this.releasedIdle++;
      else this.skippedPrewarms++;
      const what = h.kind === 'idle' ? 'unloaded early' : now < h.startAt ? 'pre-warm skipped' : 'pre-warm unloaded early';
      const why = over
        ? `the least of ${holdings.length} idle holdings; idle memory is over ${budget}`
        : `less than the ${this.price.toPrecision(2)} the budget last had to give up when idle memory was over ${budget}`;
      out.push({ id: h.id, kind: h.kind, value, reason: `warm-memory budget: ${what} (${value.toPrecision(2)} expected calls per GB-s, ${why})` });
    }
    this.expected.spend = spend;
    if (binding) this.price = cleared;
    return out;
  }
}
