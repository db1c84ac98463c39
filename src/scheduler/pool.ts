import { ModelfnError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import { InitFailure } from '../runtimes/runtime.js';
import type { LambdaError } from '../runtimes/runtime.js';
import type { InvocationTarget } from './invocation.js';
import type { PooledInstance, StartReason, TurnState } from './pooled-instance.js';
import { ewma, instancesToStart, mayPipeline, mayQueue } from './policies.js';
import { PoolKeepAlive, idleInstancesToStopAt } from './keepalive/index.js';
import type { IdleInstanceView, KeepAliveDecision } from './keepalive/index.js';

/** What a pool needs from the scheduler that owns it. */
export interface PoolHost {
  readonly clock: Clock;
  readonly maxQueueLength: number;
  readonly maxQueueWaitMs: number;
  readonly eagerInstances: number;
  /** The most invocations a pipelining instance holds at once (1: none handed over while one runs). */
  readonly pipelineDepth: number;
  /** The longest expected wait behind the calls an instance holds that pipelining accepts. */
  readonly pipelineWaitMs: number;
  functionLimit(target: InvocationTarget): number;
  functionInstances(functionName: string): number;
  /**
   * A slot among the platform's concurrent instance starts; false: none free now, and this pool
   * is pumped again when a start ends. Every granted slot is given back with endStart().
   */
  beginStart(pool: Pool): boolean;
  endStart(): void;
  /** Take one instance's share of the function limit and memory budget (may evict idle instances elsewhere). */
  reserve(pi: PooledInstance): boolean;
  /** Give a stopped instance's capacity back and let waiting pools use it. */
  release(pi: PooledInstance): void;
  /** Start the runtime process and run its init; resolves when ready. */
  launch(pi: PooledInstance): Promise<void>;
  newInstance(target: InvocationTarget, reason?: StartReason): PooledInstance;
  throttleReason(target: InvocationTarget): string;
  /** An instance finished its start; claimed: a waiting request took it (else it went idle). */
  onStarted?(pi: PooledInstance, claimed: boolean): void;
}

/** An invocation handed to a busy instance: it runs when `turn` says so. */
export interface PipelinedLease {
  readonly pi: PooledInstance;
  readonly turn: Promise<TurnState>;
}

/** What acquire hands back: an instance now marked busy, and whether this call started it. */
export interface Lease {
  readonly pi: PooledInstance;
  readonly cold: boolean;
  /** Set when the request was handed to a busy instance from the queue (pipelined): it runs when this says. */
  readonly turn?: Promise<TurnState>;
}

/** A cold start that failed in the function's own init: the caller gets the function's error. */
export class InitError extends Error {
  constructor(readonly error: LambdaError, readonly initDurationMs: number) {
    super(error.errorMessage);
  }
}

interface Waiter {
  readonly enqueuedAt: number;
  readonly requestId: string;
  /** May be handed to a busy instance (not a call that wants its log tail, or one that went round once). */
  readonly pipelinable: boolean;
  readonly resolve: (lease: Lease) => void;
  readonly reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The instances of one function version. An instance serves one invocation at a time; a request
 * that finds none idle waits in a short queue while the pool starts one instance per uncovered
 * waiter, within the function's limit.
 */
export class Pool {
  readonly instances = new Map<string, PooledInstance>();
  private readonly idle: PooledInstance[] = [];
  /** Busy instances that pipeline: where takePipelined looks (not every instance, idle ones included). */
  private readonly pipeliners = new Set<PooledInstance>();
  private readonly waiters: Waiter[] = [];
  private starting = 0;
  private busy = 0;
  private draining = false;
  private meanServiceMs: number | undefined;
  /** Run time inside the instance, as pipelining instances report it (free of the platform's own queueing). */
  private meanRunMs: number | undefined;
  /** Pipelined invocations waiting for their turn: they count against the queue limit. */
  private pipelined = 0;
  private meanColdStartMs: number | undefined;
  private repump: NodeJS.Timeout | undefined;
  /** Provisioned concurrency: this many instances are kept initialised, idle or not. */
  private minInstances = 0;
  /** The last init failure while keeping provisioned instances (cleared by a success). */
  lastInitFailure: string | undefined;

  constructor(
    readonly key: string,
    private target: InvocationTarget,
    private readonly host: PoolHost,
    /** The version's keep-alive state; it outlives the pool (a pool scaled to zero is dropped, its history is not). */
    readonly keepAlive: PoolKeepAlive = new PoolKeepAlive(),
  ) {}

  get functionName(): string {
    return this.target.config.name;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  get isEmpty(): boolean {
    return this.instances.size === 0 && this.waiters.length === 0 && this.minInstances === 0;
  }

  get minimum(): number {
    return this.minInstances;
  }

  /** Instances that finished init (idle or busy): what provisioned concurrency has available. */
  get initialised(): number {
    let n = 0;
    for (const pi of this.instances.values()) if (pi.state === 'idle' || pi.state === 'busy') n++;
    return n;
  }

  /** Set the provisioned floor and start what is missing. */
  setMinimum(count: number): void {
    this.minInstances = count;
    this.ensureMinimum();
  }

  /** Start instances until the provisioned floor is met (within the function's limit and budget). */
  ensureMinimum(): void {
    if (this.draining) return;
    let missing = this.minInstances - this.instances.size;
    const headroom = this.host.functionLimit(this.target) - this.host.functionInstances(this.functionName);
    missing = Math.min(missing, headroom);
    while (missing-- > 0) {
      if (!this.host.beginStart(this)) return;
      const pi = this.host.newInstance(this.target, 'provisioned');
      if (!this.host.reserve(pi)) return this.host.endStart();
      this.startInstance(pi);
    }
  }

  /**
   * Start one instance ahead of a predicted call and keep it idle until holdUntil (the adaptive
   * keep-alive's pre-warm). True when done or not needed (an instance is idle or starting
   * already); false when the function's limit or the memory budget has no room (try again later).
   */
  prewarm(holdUntil: number): boolean {
    if (this.draining) return false;
    if (this.idle.length > 0 || this.starting > 0) return true;
    if (this.host.functionInstances(this.functionName) >= this.host.functionLimit(this.target)) return false;
    if (!this.host.beginStart(this)) return false;
    const pi = this.host.newInstance(this.target, 'prewarm');
    if (!this.host.reserve(pi)) {
      this.host.endStart();
      return false;
    }
    pi.holdUntil = holdUntil;
    this.startInstance(pi);
    return true;
  }

  get currentTarget(): InvocationTarget {
    return this.target;
  }

  /** A newer configuration: new instances use it; idle instances of the old one stop now. */
  retarget(target: InvocationTarget): void {
    if (target.config.revisionId === this.target.config.revisionId) {
      this.target = target; // same code, maybe new function-wide scaling settings
      return;
    }
    this.target = target;
    for (const pi of this.idle.splice(0)) this.stop(pi);
    this.pump();
  }

  /**
   * An idle instance of the current code, now marked busy, or undefined when there is none. The
   * warm path of a call: no promise, no lease object (acquire() is the way to wait for one).
   */
  takeIdle(): PooledInstance | undefined {
    while (this.idle.length > 0) {
      const pi = this.idle.pop()!;
      if (pi.alive && pi.revisionId === this.target.config.revisionId) {
        this.markBusy(pi);
        return pi;
      }
      this.stop(pi);
    }
    return undefined;
  }

  /**
   * Hand the invocation to a busy instance of the current code, to run when the calls it holds
   * are done (policies.ts mayPipeline), or undefined. Never past requests already waiting in the
   * queue, and pipelined calls count against the queue limit as waiting ones do.
   */
  takePipelined(requestId: string): PipelinedLease | undefined {
    if (this.waiters.length > 0 || this.draining) return undefined;
    const pi = this.pipelineTarget();
    return pi === undefined ? undefined : { pi, turn: this.enqueueTurn(pi, requestId) };
  }

  /** Busy instances of a fast function are running lines that queued requests can join. */
  private linesMoving(): boolean {
    // Could a busy instance with one call take another (the policy's question for its first follower)?
    const fast = mayPipeline({ assigned: 1, maxDepth: this.host.pipelineDepth, meanRunMs: this.meanRunMs, maxWaitMs: this.host.pipelineWaitMs });
    return fast && this.pipeliners.size > 0 && this.waiters[0]?.pipelinable === true;
  }

  /** The busy instance with the fewest calls that may take one more (policies.ts mayPipeline), if any. */
  private pipelineTarget(): PooledInstance | undefined {
    const meanRunMs = this.meanRunMs;
    if (meanRunMs === undefined || this.host.pipelineDepth <= 1 || this.pipelined >= this.host.maxQueueLength) return undefined;
    let best: PooledInstance | undefined;
    for (const pi of this.pipeliners) {
      if (pi.state !== 'busy' || !pi.alive || pi.revisionId !== this.target.config.revisionId) continue;
      if (best !== undefined && pi.assigned >= best.assigned) continue;
      if (mayPipeline({ assigned: pi.assigned, maxDepth: this.host.pipelineDepth, meanRunMs, maxWaitMs: this.host.pipelineWaitMs })) best = pi;
    }
    return best;
  }

  private enqueueTurn(pi: PooledInstance, requestId: string): Promise<TurnState> {
    pi.assigned++;
    this.pipelined++;
    return new Promise<TurnState>((resolve) => pi.turns.push({ requestId, resolve }));
  }

  /**
   * Requests in the queue go behind busy instances that have room, oldest first: under a burst
   * to a fast function, a queued request waits a few calls instead of a cold start, and the
   * pool does not start an instance per queued request. Stops at a request that may not be pipelined.
   */
  private pipeWaiters(): void {
    while (this.waiters.length > 0 && this.waiters[0]!.pipelinable && !this.draining) {
      const pi = this.pipelineTarget();
      if (pi === undefined) return;
      const waiter = this.waiters.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve({ pi, cold: false, turn: this.enqueueTurn(pi, waiter.requestId) });
    }
  }

  /** The instance dropped a pipelined invocation unstarted: it leaves the line. */
  dropTurn(pi: PooledInstance, requestId: string): void {
    const at = pi.turns.findIndex((t) => t.requestId === requestId);
    if (at < 0) return;
    const [turn] = pi.turns.splice(at, 1);
    pi.assigned--;
    this.pipelined--;
    turn!.resolve('withdrawn');
  }

  /** requestId and pipelinable: the request may be handed to a busy instance while it waits (pipeWaiters). */
  acquire(requestId = '', pipelinable = false): Promise<Lease> {
    const warm = this.takeIdle();
    if (warm) return Promise.resolve({ pi: warm, cold: false });
    if (this.draining) return Promise.reject(new ModelfnError('SHUTTING_DOWN', 'the platform is shutting down'));
    // Reserved concurrency 0 switches a function off: throttle at once, as Lambda does.
    const limit = this.host.functionLimit(this.target);
    // A request that can still get an instance of its own always waits for it; the queue limit
    // counts only the requests beyond the function's capacity.
    const canStart = this.host.functionInstances(this.functionName) < limit;
    const queued = Math.max(0, this.waiters.length - this.starting) + this.pipelined;
    if (limit === 0 || (!canStart && !mayQueue({ queueLength: queued, maxQueueLength: this.host.maxQueueLength }))) {
      return Promise.reject(this.throttle());
    }
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = { enqueuedAt: this.host.clock.now(), requestId, pipelinable, resolve, reject, timer: undefined };
      this.waiters.push(waiter);
      this.armTimer(waiter);
      this.pipeWaiters();
      if (this.waiters.length > 0) this.pump();
    });
  }

  /**
   * The invocation is over: the next pipelined one runs, or the instance is reused, handed to a
   * waiter, or stopped. died: it ended with its instance's death, so nothing behind it started;
   * after a call that ended well the next one may have started even if the instance is dead now.
   */
  release(pi: PooledInstance, serviceMs?: number, runMs?: number, died = false): void {
    if (serviceMs !== undefined) this.meanServiceMs = ewma(this.meanServiceMs, serviceMs);
    if (runMs !== undefined) this.meanRunMs = ewma(this.meanRunMs, runMs);
    if (pi.assigned > 0) pi.assigned--;
    const next = pi.turns.shift();
    if (next !== undefined) {
      this.pipelined--;
      if (!died && pi.state === 'busy') {
        next.resolve('run');
        // Room behind this instance again: queued requests may take it.
        return this.pipeWaiters();
      }
      next.resolve('gone');
      this.abandonTurns(pi);
    }
    if (pi.state === 'stopped') return;
    if (pi.state === 'busy') {
      this.busy--;
      pi.state = 'idle';
      this.pipeliners.delete(pi);
    }
    if (!pi.alive || pi.revisionId !== this.target.config.revisionId || this.draining) {
      this.stop(pi);
      return;
    }
    pi.idleSince = this.host.clock.now();
    if (!this.handOff(pi)) this.idle.push(pi);
  }

  /** Start instances for uncovered waiters, as far as limits and the budget allow. */
  pump(): void {
    if (this.draining) return;
    const now = this.host.clock.now();
    const coldStart = this.meanColdStartMs ?? 0;
    let waitingLong = 0;
    for (const w of this.waiters) if (now - w.enqueuedAt >= coldStart) waitingLong++;
    // A fast function's busy instances take queued requests into their lines as the lines move
    // (pipeWaiters): they cover the queue at the rate they run calls, so the pool does not start
    // an instance per queued request. Requests still waiting after a cold start's time (the
    // instances are saturated) get instances of their own, as below.
    const moving = this.linesMoving();
    let toStart = instancesToStart({
      waiting: this.waiters.length,
      waitingLong,
      starting: this.starting,
      functionInstances: this.host.functionInstances(this.functionName),
      functionLimit: this.host.functionLimit(this.target),
      busy: moving ? this.pipeliners.size : this.busy,
      meanServiceMs: moving ? this.meanRunMs : this.meanServiceMs,
      meanColdStartMs: this.meanColdStartMs,
      eagerInstances: moving ? 0 : this.host.eagerInstances,
    });
    // Waiters left to busy instances are looked at again once they have waited a cold start's
    // time: if the busy instances did not free up as expected, they get instances of their own.
    if (this.waiters.length > this.starting + toStart && this.repump === undefined && coldStart > 0) {
      this.repump = setTimeout(() => {
        this.repump = undefined;
        this.pump();
      }, Math.ceil(coldStart));
      this.repump.unref();
    }
    while (toStart-- > 0) {
      // The platform's start limit: without a slot the waiters keep waiting (their queue deadline
      // still holds) and this pool is pumped again when another start ends.
      if (!this.host.beginStart(this)) return;
      const pi = this.host.newInstance(this.target);
      if (!this.host.reserve(pi)) return this.host.endStart();
      this.startInstance(pi);
    }
  }

  /**
   * Stop idle instances whose keep-alive ran out under the decision (src/scheduler/keepalive);
   * functionIdleSince: when the function's last call ended, undefined while calls run.
   */
  reap(decision: KeepAliveDecision, functionIdleSince: number | undefined): void {
    if (this.idle.length === 0) return;
    const now = this.host.clock.now();
    const expired = new Set(idleInstancesToStopAt(this.idleViews(), now, decision, functionIdleSince));
    if (expired.size === 0) return;
    // The oldest idle instances go first; provisioned ones (the floor) stay.
    let i = 0;
    while (i < this.idle.length && this.instances.size > this.minInstances) {
      const pi = this.idle[i]!;
      if (expired.has(pi.id)) {
        this.idle.splice(i, 1);
        this.stop(pi);
      } else {
        i++;
      }
    }
  }

  /** An instance leaves the idle state: its idle memory-time is spent (the warm-memory budget's ledger). */
  private spentIdle(pi: PooledInstance): void {
    this.keepAlive.idleMbMsClosed += pi.memoryMb * Math.max(0, this.host.clock.now() - pi.idleSince);
  }

  /** Idle MB x ms the pool's instances have held until `now`: those no longer idle and those idle now. */
  idleMbMsUntil(now: number): number {
    let open = 0;
    for (const pi of this.idle) open += pi.memoryMb * Math.max(0, now - pi.idleSince);
    return this.keepAlive.idleMbMsClosed + open;
  }

  /** The idle instances as the keep-alive sees them, oldest first. */
  idleViews(): IdleInstanceView[] {
    return this.idle.map((pi) => ({ id: pi.id, idleSince: pi.idleSince, holdUntil: pi.holdUntil }));
  }

  /** The idle instance the next call would get (the most recently idle one). */
  newestIdle(): PooledInstance | undefined {
    return this.idle[this.idle.length - 1];
  }

  /** The least recently used idle instance, for eviction when the memory budget is full. */
  oldestIdle(): PooledInstance | undefined {
    return this.idle[0];
  }

  evict(pi: PooledInstance): void {
    const at = this.idle.indexOf(pi);
    if (at >= 0) this.idle.splice(at, 1);
    this.stop(pi);
  }

  /** Stop taking work: waiters fail, idle instances stop, busy ones stop when they finish. */
  drain(): void {
    this.draining = true;
    clearTimeout(this.repump);
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new ModelfnError('SHUTTING_DOWN', 'the function is being removed or the platform is shutting down'));
    }
    for (const pi of this.idle.splice(0)) this.stop(pi);
  }

  /** Stop an instance; its capacity is given back at once (a SIGKILLed process frees its memory). */
  stop(pi: PooledInstance): void {
    if (pi.state === 'stopped') return;
    if (pi.state === 'busy') this.busy--;
    if (pi.state === 'idle') this.spentIdle(pi);
    pi.state = 'stopped';
    this.pipeliners.delete(pi);
    this.abandonTurns(pi);
    const at = this.idle.indexOf(pi);
    if (at >= 0) this.idle.splice(at, 1);
    pi.instance?.kill();
    this.forget(pi);
  }

  /** The process exited on its own (crash) or after a stop. */
  onExit(pi: PooledInstance): void {
    if (pi.state === 'busy') return; // the running invocation reports the death, then releases it
    const wasLive = pi.state !== 'stopped';
    this.stop(pi);
    // A provisioned instance that died is replaced at once (not at the next reaper tick).
    if (wasLive && this.instances.size < this.minInstances) queueMicrotask(() => this.ensureMinimum());
  }

  /** The instance will run nothing more: the invocations in its line never started. */
  private abandonTurns(pi: PooledInstance): void {
    for (const turn of pi.turns.splice(0)) {
      pi.assigned--;
      this.pipelined--;
      turn.resolve('gone');
    }
  }

  private forget(pi: PooledInstance): void {
    this.instances.delete(pi.id);
    this.host.release(pi);
  }

  private startInstance(pi: PooledInstance): void {
    this.instances.set(pi.id, pi);
    this.starting++;
    const started = this.host.clock.now();
    this.host.launch(pi).then(
      () => {
        this.starting--;
        this.host.endStart();
        void pi.instance!.exited.then(() => this.onExit(pi));
        if (pi.state === 'stopped') return this.pump();
        if (!pi.alive || pi.revisionId !== this.target.config.revisionId || this.draining) {
          this.stop(pi);
          return this.pump();
        }
        this.meanColdStartMs = ewma(this.meanColdStartMs, pi.initDurationMs);
        this.lastInitFailure = undefined;
        pi.state = 'idle';
        pi.idleSince = this.host.clock.now();
        const claimed = this.handOff(pi, true);
        if (!claimed) this.idle.push(pi);
        this.host.onStarted?.(pi, claimed);
      },
      (err: unknown) => {
        this.starting--;
        this.host.endStart();
        this.lastInitFailure = err instanceof InitFailure ? `${err.error.errorType}: ${err.error.errorMessage}` : (err as Error).message;
        this.stop(pi);
        // The start served the head waiter: it gets the failure. The others start over.
        const waiter = this.waiters.shift();
        if (waiter) {
          clearTimeout(waiter.timer);
          waiter.reject(err instanceof InitFailure ? new InitError(err.error, this.host.clock.now() - started) : toError(err));
        }
        this.pump();
      },
    );
  }

  private handOff(pi: PooledInstance, cold = false): boolean {
    const waiter = this.waiters.shift();
    if (!waiter) return false;
    clearTimeout(waiter.timer);
    this.markBusy(pi);
    waiter.resolve({ pi, cold });
    return true;
  }

  private markBusy(pi: PooledInstance): void {
    if (pi.state === 'idle') this.spentIdle(pi);
    pi.state = 'busy';
    pi.assigned = 1;
    if (pi.pipelining) this.pipeliners.add(pi);
    pi.holdUntil = undefined;
    this.busy++;
  }

  private armTimer(waiter: Waiter): void {
    waiter.timer = setTimeout(() => {
      const position = this.waiters.indexOf(waiter);
      if (position < 0) return;
      // A waiter covered by an instance that is still starting keeps waiting: the init timeout bounds it.
      if (position < this.starting) return this.armTimer(waiter);
      this.waiters.splice(position, 1);
      waiter.reject(this.throttle());
    }, this.host.maxQueueWaitMs);
    waiter.timer.unref();
  }

  private throttle(): ModelfnError {
    const reason = this.host.throttleReason(this.target);
    return new ModelfnError('TOO_MANY_REQUESTS', `Rate Exceeded. ${this.functionName} is at its concurrency limit and its queue is full`, {
      details: { reason },
    });
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
