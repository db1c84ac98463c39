/**
 * Who fires a scheduled run. Every node may compute that a rule is due; `claim` decides which one
 * fires it: exactly one caller gets true for a given (rule, scheduled time), and a claim never goes
 * backwards in time. Embedded: a row per rule in events.db (one process, so it always wins).
 * Cluster: a compare-and-set on a KV key per rule, so a schedule fires once per cluster.
 */
export interface ScheduleClaims {
  /** The scheduled time of the last run claimed for this rule. */
  lastScheduled(rule: string): Promise<number | undefined>;
  /** Claim the run scheduled at `scheduledAt`; false when it, or a later run, was already claimed. */
  claim(rule: string, scheduledAt: number, now: number): Promise<boolean>;
  /** A rule was deleted: drop its state. */
  forget(rule: string): Promise<void>;
}
