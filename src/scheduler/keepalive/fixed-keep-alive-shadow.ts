/**
 * What a fixed keep-alive would keep loaded but idle for one function, given the same arrivals and
 * ends as the function really sees: the shadow the warm-memory budget measures the adaptive policy
 * against. Driven by the times it is given (no clock); it starts and stops nothing.
 *
 * `perCall` says how instances serve calls: true, one call per instance (modelfn's pools: a call
 * that finds no idle instance adds one); false, a loaded function serves overlapping calls (the
 * paper's model: one instance, idle only while no call runs).
 */
export class FixedKeepAliveShadow {
  /** When each idle instance went idle, oldest first (from `head`). */
  private idle: number[] = [];
  private head = 0;
  private running = 0;
  /** Idle instance-ms of instances that are no longer idle. */
  private closedMs = 0;

  constructor(
    public keepAliveMs: number,
    private readonly perCall = true,
  ) {}

  /** Idle instances now (after expire). */
  get idleCount(): number {
    return this.idle.length - this.head;
  }

  /** A call arrives at `now`: it takes the newest idle instance, if the fixed keep-alive kept one. */
  arrive(now: number): void {
    this.expire(now);
    if (this.perCall || this.running === 0) {
      if (this.idle.length > this.head) this.closedMs += now - this.idle.pop()!;
      this.compact();
    }
    this.running++;
  }

  /** A call ended at `now`: its instance goes idle (in the app model, only when no other call runs). */
  finish(now: number): void {
    this.expire(now);
    if (this.running > 0) this.running--;
    if (this.perCall || this.running === 0) this.idle.push(now);
  }

  /** Idle instance-ms the fixed keep-alive would have held from the start until `now`. */
  idleMsUntil(now: number): number {
    this.expire(now);
    let open = 0;
    for (let i = this.head; i < this.idle.length; i++) open += Math.max(0, now - this.idle[i]!);
    return this.closedMs + open;
  }

  /** Idle instance-ms the fixed keep-alive will hold over [now, now + horizonMs) if no call comes. */
  projectedIdleMs(now: number, horizonMs: number): number {
    let sum = 0;
    for (let i = this.head; i < this.idle.length; i++) sum += Math.max(0, Math.min(horizonMs, this.idle[i]! + this.keepAliveMs - now));
    return sum;
  }

  private expire(now: number): void {
    while (this.idle.length > this.head && this.idle[this.head]! + this.keepAliveMs <= now) {
      this.closedMs += this.keepAliveMs;
      this.head++;
    }
    this.compact();
  }

  private compact(): void {
    if (this.head === this.idle.length) {
      this.idle.length = 0;
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.idle.length) {
      this.idle = this.idle.slice(this.head);
      this.head = 0;
    }
  }
}
