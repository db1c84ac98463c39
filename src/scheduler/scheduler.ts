import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { ModelfnError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import { newInstanceId } from '../shared/ids.js';
import type { LogSink } from '../telemetry/logs/log-record.js';
import type { InvocationReport } from '../telemetry/logs/log-record.js';
import { formatEnd, formatOutputLine, formatReport, formatStart } from '../telemetry/logs/log-record.js';
import type { InstanceLogLine, InvokeRequest, InvokeResponse } from '../runtimes/runtime.js';
import { InstanceDied, InvocationWithdrawn, describeExit } from '../runtimes/runtime.js';
import type { Invocation, InvocationOutcome, InvocationTarget } from './invocation.js';
import type { ColdStartPhases, Launcher } from './instance-launcher.js';
import { MemoryBudget } from './memory-budget.js';
import { MemoryWatchdog } from './memory-watchdog.js';
import { InitError, Pool } from './pool.js';
import type { PoolHost } from './pool.js';
import { PooledInstance } from './pooled-instance.js';
import type { StartReason, TurnState } from './pooled-instance.js';
import { billedDurationMs, functionConcurrencyLimit } from './policies.js';
import { HYBRID_DEFAULTS, PoolKeepAlive } from './keepalive/index.js';
import type { HybridParams, KeepAlivePolicyName, KeepAliveStatus, KeepAliveTick, WarmBudgetOptions, WarmMemoryBudget } from './keepalive/index.js';
import { WarmBudgetReaper } from './warm-budget-reaper.js';
import type { BudgetedVersion } from './warm-budget-reaper.js';
import { ColdStartLog, formatInitPhases } from './cold-start-log.js';

export interface SchedulerOptions {
  readonly clock: Clock;
  readonly launcher: Launcher;
  readonly logs: LogSink;
  readonly memoryBudgetMb: number;
  readonly accountConcurrency: number;
  readonly minUnreservedConcurrency: number;
  readonly defaultKeepAliveSec: number;
  readonly maxQueueLength: number;
  readonly maxQueueWaitMs: number;
  readonly reapIntervalMs: number;
  /** Instances a pool starts one per waiting request before it prefers queueing for warm ones. */
  readonly eagerInstances: number;
  /**
   * Instance starts running at once, platform-wide (default: unlimited). Process starts share the
   * machine's cores with the requests: a burst that started one per waiting request on a small
   * machine would slow every start down, hit init timeouts and start again; a bound keeps starts
   * fast and lets the queue deadline answer 429 instead.
   */
  readonly maxConcurrentStarts?: number;
  /**
   * The most invocations a pipelining instance (Node.js) holds at once: the running one and those
   * handed over behind it (default 16; 1 turns pipelining off). See policies.ts mayPipeline.
   */
  readonly pipelineDepth?: number;
  /** The longest expected wait behind an instance's calls that pipelining accepts (default 1 ms). */
  readonly pipelineWaitMs?: number;
  /**
   * A pipelined invocation whose turn has not come after this long is withdrawn from its instance
   * (if it has not started there) and run elsewhere: a slow call holds the calls behind it only
   * this long (default 50 ms).
   */
  readonly pipelineWithdrawMs?: number;
  /** A synchronous result larger than this is a function error (Lambda: 6 MB). */
  readonly maxResponseBytes: number;
  /** Keep-alive policy of functions that do not choose one (default 'fixed', Lambda's). */
  readonly defaultKeepAlivePolicy?: KeepAlivePolicyName;
  /** Parameters of the adaptive (hybrid histogram) policy; default: the paper's. */
  readonly keepAliveParams?: HybridParams;
  /**
   * The warm-memory budget of functions under the adaptive policy (keepalive/warm-memory-budget.ts):
   * default on, holding their idle memory to what their fixed keep-alive would hold; a capMb holds
   * it under an absolute cap instead; false turns it off.
   */
  readonly warmMemoryBudget?: WarmBudgetOptions | false;
}

/** Emitted for every finished invocation (telemetry subscribes; nothing here waits for it). */
export interface InvocationRecord {
  readonly functionName: string;
  readonly version: string;
  readonly requestId: string;
  readonly durationMs: number;
  readonly billedDurationMs: number;
  readonly memoryMb: number;
  readonly initDurationMs?: number;
  readonly errorType?: string;
  /** The invocation's X-Ray style trace header (Root=...;Parent=...;Sampled=...), when it had one. */
  readonly traceId?: string;
  /** It was handed to its instance while another call ran there (pipelining). */
  readonly pipelined?: boolean;
}

/**
 * Emitted as 'coldstart' for every instance start (metrics subscribe), once the first invocation
 * on it ended (then phases.firstInvokeMs is set) or when it went idle unused (provisioned,
 * pre-warmed); the last ones per function are kept for the API.
 */
export interface ColdStartRecord {
  readonly functionName: string;
  readonly version: string;
  readonly initDurationMs: number;
  readonly phases?: ColdStartPhases;
  readonly instanceId?: string;
  /** Epoch ms when the start began. */
  readonly startedAt?: number;
  readonly trigger?: StartReason;
  /** The request the instance was started for and served first. */
  readonly requestId?: string;
  /** A stem cell took the function (Node.js stem cell, Python zygote fork, model spare host). */
  readonly stemCell?: boolean;
}

/** A live instance process, for per-process telemetry (CPU time from /proc). */
export interface InstanceProcess {
  readonly id: string;
  readonly functionName: string;
  readonly version: string;
  readonly pid: number;
}

/**
 * Owns every instance: one pool per function version, a concurrency ledger per function, the
 * memory budget, timeouts, the memory watchdog and the keep-alive reaper. It moves opaque events
 * and knows no wire protocol.
 */
export class Scheduler extends EventEmitter implements PoolHost {
  readonly clock: Clock;
  readonly maxQueueLength: number;
  readonly maxQueueWaitMs: number;
  readonly eagerInstances: number;
  readonly pipelineDepth: number;
  readonly pipelineWaitMs: number;
  private readonly pipelineWithdrawMs: number;
  private readonly pools = new Map<string, Pool>();
  private readonly perFunction = new Map<string, number>();
  private readonly reservations = new Map<string, number>();
  private readonly budget: MemoryBudget;
  private readonly watchdog = new MemoryWatchdog();
  private readonly reaper: NodeJS.Timeout;
  /** Keep-alive state per function version (pool key): it outlives pools scaled to zero. */
  private readonly keepAlives = new Map<string, PoolKeepAlive>();
  private readonly coldStartLog = new ColdStartLog();
  /** The warm-memory budget (undefined when off), and the memory of each version it has seen (versions scaled to zero still count). */
  private readonly warmBudget: WarmBudgetReaper | undefined;
  private readonly budgetedMemoryMb = new Map<string, number>();
  private inFlight = 0;
  private closing = false;
  private startsRunning = 0;
  /** Pools refused a start slot, in order: pumped again as slots free up. */
  private readonly waitingForStart = new Set<Pool>();

  constructor(private readonly options: SchedulerOptions) {
    super();
    this.clock = options.clock;
    this.maxQueueLength = options.maxQueueLength;
    this.maxQueueWaitMs = options.maxQueueWaitMs;
    this.eagerInstances = options.eagerInstances;
    this.pipelineDepth = options.pipelineDepth ?? 16;
    this.pipelineWaitMs = options.pipelineWaitMs ?? 1;
    this.pipelineWithdrawMs = options.pipelineWithdrawMs ?? 50;
    this.budget = new MemoryBudget(options.memoryBudgetMb);
    this.warmBudget = options.warmMemoryBudget === false ? undefined : new WarmBudgetReaper(options.warmMemoryBudget ?? {});
    this.reaper = setInterval(() => this.reapIdle(), options.reapIntervalMs);
    this.reaper.unref();
  }

  /** Run one invocation: find or start an instance, enforce the timeout, log, release. */
  async invoke(target: InvocationTarget, invocation: Invocation): Promise<InvocationOutcome> {
    if (this.closing) throw new ModelfnError('SHUTTING_DOWN', 'the platform is shutting down');
    this.noteReservation(target);
    const pool = this.poolFor(target);
    // The keep-alive learns the function's idle times from arrivals and ends (no allocation here).
    const keepAlive = pool.keepAlive;
    keepAlive.arrive(this.clock.now());
    try {
      // An invocation that was handed to a busy instance and did not start there (the instance
      // died first, or dropped it when it waited too long) goes round again, never pipelined.
      for (let pipelining = !invocation.wantLogs; ; pipelining = false) {
        // A fast function's call goes behind a busy instance's when the wait is expected to be
        // short (policies.ts mayPipeline): a few hot instances serve the load instead of every
        // idle one being woken in turn, and the rest are reaped. Else a warm instance is taken
        // at once; only a call that must wait (or start one) awaits.
        let pi: PooledInstance | undefined;
        let turn: Promise<TurnState> | undefined;
        const lease = pipelining ? pool.takePipelined(invocation.requestId) : undefined;
        if (lease) ({ pi, turn } = lease);
        else pi = pool.takeIdle();
        let cold = false;
        if (!pi) {
          try {
            ({ pi, cold, turn } = await pool.acquire(invocation.requestId, pipelining));
          } catch (err) {
            if (err instanceof InitError) return this.initFailed(target, invocation, err);
            if (err instanceof ModelfnError && err.code === 'TOO_MANY_REQUESTS') this.emit('throttle', target.config.name, target.config.version);
            throw err;
          }
        }
        this.inFlight++;
        try {
          const outcome = await this.run(pool, pi, cold, invocation, turn);
          if (outcome !== undefined) return outcome;
        } finally {
          this.inFlight--;
          if (this.inFlight === 0) this.emit('idle');
        }
      }
    } finally {
      keepAlive.finish(this.clock.now());
    }
  }

  /**
   * Could this node serve the target now without queueing behind busy instances: an idle
   * instance, or room to start one (the function's limit, and the memory budget counting idle
   * instances of other functions it may evict). The cluster dispatcher asks this before it sends
   * a call to another node; it changes nothing.
   */
  hasCapacity(target: InvocationTarget): boolean {
    if (this.closing) return false;
    const pool = this.pools.get(poolKey(target));
    if (pool && pool.idleCount > pool.waiting) return true;
    if (this.functionInstances(target.config.name) >= this.functionLimit(target)) return false;
    let freeMb = this.budget.freeMb;
    for (const p of this.pools.values()) {
      if (freeMb >= target.config.memoryMb) break;
      for (const pi of p.instances.values()) if (pi.state === 'idle') freeMb += pi.memoryMb;
    }
    return freeMb >= target.config.memoryMb;
  }

  /** A function changed or was deleted: retire instances of old code, drop pools of a deleted one. */
  onFunctionChanged(name: string, current: (version: string) => InvocationTarget | undefined): void {
    for (const [key, pool] of this.pools) {
      if (pool.functionName !== name) continue;
      const target = current(pool.currentTarget.config.version);
      if (target) pool.retarget(target);
      else {
        pool.drain();
        this.pools.delete(key);
      }
    }
    // Keep-alive histograms of versions that are gone go with them.
    for (const key of this.keepAlives.keys()) {
      if (key.startsWith(`${name}:`) && !current(key.slice(name.length + 1))) {
        this.keepAlives.delete(key);
        this.budgetedMemoryMb.delete(key);
      }
    }
    if (!current('$LATEST')) {
      this.reservations.delete(name);
      this.coldStartLog.forget(name);
    }
  }

  /**
   * Provisioned concurrency: the pools listed keep that many initialised instances (replaced when
   * they die; counted against the function's limit); every other pool's floor drops to zero.
   */
  applyProvisioned(floors: ReadonlyArray<{ readonly target: InvocationTarget; readonly count: number }>): void {
    const wanted = new Map<string, number>();
    for (const { target, count } of floors) {
      if (count <= 0) continue;
      const pool = this.poolFor(target);
      wanted.set(pool.key, (wanted.get(pool.key) ?? 0) + count);
    }
    for (const pool of this.pools.values()) pool.setMinimum(wanted.get(pool.key) ?? 0);
  }

  /** Provisioned instances of one version: allocated (started or starting), available (initialised). */
  provisionedStatus(functionName: string, version: string): { allocated: number; available: number; failure?: string } {
    const pool = this.pools.get(`${functionName}:${version}`);
    if (!pool) return { allocated: 0, available: 0 };
    return {
      allocated: Math.min(pool.instances.size, pool.minimum),
      available: Math.min(pool.initialised, pool.minimum),
      ...(pool.lastInitFailure !== undefined ? { failure: pool.lastInitFailure } : {}),
    };
  }

  /** Instances by state, for `ls` and the metrics. */
  snapshot(): Array<{ functionName: string; version: string; instances: number; idle: number; busy: number; starting: number; waiting: number }> {
    return [...this.pools.values()].map((pool) => {
      const all = [...pool.instances.values()];
      return {
        functionName: pool.functionName,
        version: pool.currentTarget.config.version,
        instances: all.length,
        idle: all.filter((pi) => pi.state === 'idle').length,
        busy: all.filter((pi) => pi.state === 'busy').length,
        starting: all.filter((pi) => pi.state === 'starting').length,
        waiting: pool.waiting,
      };
    });
  }

  /** Live instance processes (read by the metering's CPU sampler, off the request path). */
  instanceProcesses(): InstanceProcess[] {
    const out: InstanceProcess[] = [];
    for (const pool of this.pools.values()) {
      for (const pi of pool.instances.values()) {
        const pid = pi.pid;
        if (pid !== undefined && pi.state !== 'stopped') out.push({ id: pi.id, functionName: pi.functionName, version: pi.target.config.version, pid });
      }
    }
    return out;
  }

  get memoryUsedMb(): number {
    return this.budget.usedMb;
  }

  /** Stop accepting work, let running invocations finish (up to graceMs), then stop every instance. */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.reaper);
    for (const pool of this.pools.values()) pool.drain();
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.once('idle', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const exits: Promise<unknown>[] = [];
    for (const pool of this.pools.values()) {
      for (const pi of [...pool.instances.values()]) {
        if (pi.instance) exits.push(pi.instance.exited);
        pool.stop(pi);
      }
    }
    this.watchdog.stop();
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  // ---- PoolHost ------------------------------------------------------------------------------

  functionLimit(target: InvocationTarget): number {
    let totalReserved = 0;
    for (const r of this.reservations.values()) totalReserved += r;
    return functionConcurrencyLimit({
      reservedConcurrency: target.scaling.reservedConcurrency,
      accountLimit: this.options.accountConcurrency,
      totalReserved,
      minUnreserved: this.options.minUnreservedConcurrency,
    });
  }

  functionInstances(functionName: string): number {
    return this.perFunction.get(functionName) ?? 0;
  }

  beginStart(pool: Pool): boolean {
    if (this.startsRunning >= (this.options.maxConcurrentStarts ?? Number.POSITIVE_INFINITY)) {
      this.waitingForStart.add(pool);
      return false;
    }
    this.startsRunning++;
    return true;
  }

  endStart(): void {
    this.startsRunning--;
    for (const pool of this.waitingForStart) {
      if (this.startsRunning >= (this.options.maxConcurrentStarts ?? Number.POSITIVE_INFINITY)) return;
      this.waitingForStart.delete(pool);
      pool.pump();
    }
  }

  reserve(pi: PooledInstance): boolean {
    if (!this.budget.tryReserve(pi.memoryMb)) {
      if (!this.evictFor(pi.memoryMb) || !this.budget.tryReserve(pi.memoryMb)) return false;
    }
    this.perFunction.set(pi.functionName, this.functionInstances(pi.functionName) + 1);
    return true;
  }

  release(pi: PooledInstance): void {
    if (pi.released) return;
    pi.released = true;
    this.budget.release(pi.memoryMb);
    const left = this.functionInstances(pi.functionName) - 1;
    if (left > 0) this.perFunction.set(pi.functionName, left);
    else this.perFunction.delete(pi.functionName);
    this.watchdog.remove(pi);
    if (pi.instance) void this.options.launcher.cleanup(pi.id);
    // Capacity came back: pools with uncovered waiters may start instances now.
    queueMicrotask(() => {
      for (const pool of this.pools.values()) if (pool.waiting > 0) pool.pump();
    });
  }

  newInstance(target: InvocationTarget, reason: StartReason = 'request'): PooledInstance {
    return new PooledInstance(newInstanceId(), target, this.clock.now(), (pi, line) => this.onInstanceLine(pi, line), reason);
  }

  async launch(pi: PooledInstance): Promise<void> {
    const started = performance.now();
    let phases: ColdStartPhases | undefined;
    let stemCell = false;
    const instance = await this.options.launcher.launch({
      id: pi.id,
      config: pi.target.config,
      startedAt: pi.startedAt,
      onLog: pi.handleLog,
      onPhases: (p, stem) => {
        phases = p;
        stemCell = stem;
      },
    });
    pi.instance = instance;
    pi.initDurationMs = performance.now() - started;
    // Reported once the first invocation on it ended (or when it goes idle unused): see onStarted and run.
    pi.coldStart = {
      functionName: pi.functionName,
      version: pi.target.config.version,
      initDurationMs: pi.initDurationMs,
      phases,
      instanceId: pi.id,
      startedAt: pi.startedAt,
      trigger: pi.startedBy,
      stemCell,
    };
    if (pi.state === 'stopped') {
      instance.kill();
      return;
    }
    // Sampled once after init so that even the first REPORT has a real Max Memory Used.
    await this.watchdog.sample(pi);
    this.watchdog.add(pi);
  }

  /** An instance is ready: one that no request took (provisioned, pre-warmed) reports its cold start now. */
  onStarted(pi: PooledInstance, claimed: boolean): void {
    if (!claimed) this.reportColdStart(pi);
  }

  throttleReason(target: InvocationTarget): string {
    return target.scaling.reservedConcurrency !== null
      ? 'ReservedFunctionConcurrentInvocationLimitExceeded'
      : 'ConcurrentInvocationLimitExceeded';
  }

  // ---- internals -------------------------------------------------------------------------------

  private poolFor(target: InvocationTarget): Pool {
    const key = poolKey(target);
    let pool = this.pools.get(key);
    if (!pool) {
      let keepAlive = this.keepAlives.get(key);
      if (!keepAlive) this.keepAlives.set(key, (keepAlive = new PoolKeepAlive(this.options.keepAliveParams ?? HYBRID_DEFAULTS)));
      pool = new Pool(key, target, this, keepAlive);
      this.pools.set(key, pool);
    } else if (pool.currentTarget.config.revisionId !== target.config.revisionId) {
      // Requests resolved before a redeploy may arrive after it: only ever move forward.
      if (target.config.lastModified >= pool.currentTarget.config.lastModified) pool.retarget(target);
    } else if (pool.currentTarget.scaling !== target.scaling) {
      pool.retarget(target);
    }
    return pool;
  }

  private noteReservation(target: InvocationTarget): void {
    const reserved = target.scaling.reservedConcurrency;
    if (reserved === null) this.reservations.delete(target.config.name);
    else this.reservations.set(target.config.name, reserved);
  }

  /**
   * Run the invocation on its instance; undefined when it never started there (a pipelined
   * invocation whose instance died before its turn, or that the instance dropped when withdrawn).
   */
  private async run(pool: Pool, pi: PooledInstance, cold: boolean, invocation: Invocation, turn?: Promise<TurnState>): Promise<InvocationOutcome | undefined> {
    const { config } = pi.target;
    const requestId = invocation.requestId;
    const timeoutMs = config.timeoutSec * 1000;
    // Sent now even when pipelined: the instance starts it the moment the calls ahead are done.
    // Never rejects: a failure (the instance died) is an answer like any other.
    let response: Promise<InvokeResponse | Error>;
    try {
      const instance = pi.instance!;
      const request: InvokeRequest = {
        requestId,
        payload: invocation.payload,
        deadlineMs: this.clock.now() + timeoutMs,
        timeoutMs,
        invokedFunctionArn: pi.target.invokedFunctionArn,
        clientContext: invocation.clientContext,
        cognitoIdentity: invocation.cognitoIdentity,
        traceId: invocation.traceId,
      };
      response = instance.invokeSettled ? instance.invokeSettled(request) : instance.invoke(request).then(undefined, toError);
    } catch (err) {
      response = Promise.resolve(toError(err));
    }
    if (turn !== undefined) {
      // Behind a call that runs long, ask for it back (the instance drops it if it has not started;
      // only then can it answer 'withdrawn', so only then is the answer watched for it).
      const late = setTimeout(() => {
        pi.instance?.withdraw?.(requestId);
        void response.then((r) => {
          if (r instanceof InvocationWithdrawn) pool.dropTurn(pi, requestId);
        });
      }, this.pipelineWithdrawMs);
      const state = await turn;
      clearTimeout(late);
      if (state !== 'run') return this.notStarted(pi, state);
    }
    pi.currentRequestId = requestId;
    pi.collected = invocation.wantLogs ? [formatStart(requestId, config.version)] : undefined;
    const startedAt = this.clock.now();
    const started = performance.now();
    const timer = setTimeout(() => {
      pi.stopCause ??= 'timeout';
      pi.instance?.kill();
    }, timeoutMs);
    const answer = await response;
    clearTimeout(timer);
    if (answer instanceof InvocationWithdrawn) {
      // Dropped unstarted just as its turn came: the instance goes on with the next one.
      pi.currentRequestId = null;
      pi.collected = undefined;
      pool.release(pi);
      return this.notStarted(pi, 'withdrawn');
    }
    let result: InvokeResponse = answer instanceof Error ? { ok: false, error: this.deathError(pi, requestId, answer) } : answer;
    // Nothing behind this call started if the instance died in it, or said it stops after it.
    const died = answer instanceof Error || (!answer.ok && answer.fatal === true);
    if (result.ok && result.payload.length > this.options.maxResponseBytes) {
      result = {
        ok: false,
        error: {
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size (${result.payload.length} bytes) exceeded maximum allowed payload size (${this.options.maxResponseBytes} bytes).`,
        },
      };
    }
    // To the microsecond, the clock's real resolution: a double with all its digits costs ~0.2 µs
    // more to write into every log record.
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    const billed = billedDurationMs(durationMs);
    // An instance's first call also compiles the handler's code: not what its calls cost after.
    const runMs = pi.served === 0 ? undefined : result.runMs;
    pi.served++;
    const initDurationMs = cold ? pi.initDurationMs : undefined;
    // Optional members are added, not spread in: spreads of objects that differ in shape make
    // V8 build every report in its runtime (this runs on every call).
    const report: Mutable<InvocationReport> = {
      startedAt,
      durationMs,
      billedDurationMs: billed,
      memoryMb: config.memoryMb,
      maxMemoryUsedMb: pi.peakRssMb,
    };
    if (initDurationMs !== undefined) report.initDurationMs = initDurationMs;
    if (!result.ok) report.errorType = result.error.errorType;
    this.options.logs.append({
      ts: this.clock.now(),
      functionName: config.name,
      version: config.version,
      instanceId: pi.id,
      requestId,
      kind: 'invocation',
      message: '',
      report,
    });
    pi.collected?.push(formatEnd(requestId), formatReport(requestId, report));
    if (cold && pi.coldStart) {
      // The cold start's breakdown, with this first invocation as its last phase.
      const record = this.reportColdStart(pi, requestId, durationMs)!;
      const line = formatInitPhases(requestId, record);
      this.options.logs.append({ ts: this.clock.now(), functionName: config.name, version: config.version, instanceId: pi.id, requestId, kind: 'platform', message: line });
      pi.collected?.push(line);
    }
    const logs = pi.collected?.join('\n');
    pi.currentRequestId = null;
    pi.lastRequestId = requestId;
    pi.collected = undefined;
    pool.release(pi, durationMs, runMs, died);
    const outcome: InvocationOutcome = {
      requestId,
      executedVersion: config.version,
      result,
      durationMs,
      billedDurationMs: billed,
      initDurationMs,
      maxMemoryUsedMb: pi.peakRssMb,
      logs,
    };
    if (this.listenerCount('invocation') > 0) this.emit('invocation', {
      functionName: config.name,
      version: config.version,
      requestId,
      durationMs,
      billedDurationMs: billed,
      memoryMb: config.memoryMb,
      initDurationMs,
      errorType: result.ok ? undefined : result.error.errorType,
      traceId: invocation.traceId,
      pipelined: turn !== undefined,
    } satisfies InvocationRecord);
    return outcome;
  }

  /** A pipelined invocation did not start on its instance: it goes round again (metrics count why). */
  private notStarted(pi: PooledInstance, why: Exclude<TurnState, 'run'>): undefined {
    if (this.listenerCount('redispatch') > 0) this.emit('redispatch', pi.functionName, pi.target.config.version, why);
    return undefined;
  }

  /** The cold start of this request failed in the function's init: report it as Lambda does. */
  private initFailed(target: InvocationTarget, invocation: Invocation, err: InitError): InvocationOutcome {
    const { config } = target;
    const message = `INIT_REPORT Init Duration: ${err.initDurationMs.toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${err.error.errorType}`;
    this.options.logs.append({
      ts: this.clock.now(),
      functionName: config.name,
      version: config.version,
      instanceId: '',
      requestId: invocation.requestId,
      kind: 'platform',
      message,
    });
    this.emit('invocation', {
      functionName: config.name,
      version: config.version,
      requestId: invocation.requestId,
      durationMs: 0,
      billedDurationMs: 0,
      memoryMb: config.memoryMb,
      initDurationMs: err.initDurationMs,
      errorType: err.error.errorType,
      traceId: invocation.traceId,
    } satisfies InvocationRecord);
    return {
      requestId: invocation.requestId,
      executedVersion: config.version,
      result: { ok: false, error: err.error },
      durationMs: 0,
      billedDurationMs: 0,
      initDurationMs: err.initDurationMs,
      maxMemoryUsedMb: 0,
      logs: invocation.wantLogs ? message : undefined,
    };
  }

  private deathError(pi: PooledInstance, requestId: string, err: unknown) {
    if (pi.stopCause === 'timeout') {
      return {
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${requestId} Error: Task timed out after ${pi.target.config.timeoutSec.toFixed(2)} seconds`,
      };
    }
    const exit = err instanceof InstanceDied ? describeExit(err.exit) : 'signal: killed';
    const byKernel = err instanceof InstanceDied && err.exit.outOfMemory === true;
    if (pi.stopCause === 'memory' || byKernel) {
      const how = byKernel && pi.stopCause !== 'memory' ? '; killed by the kernel at its sandbox\'s memory cap' : '';
      return {
        errorType: 'Runtime.OutOfMemory',
        errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${exit} (memory size ${pi.memoryMb} MB exceeded${how})`,
      };
    }
    return { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${exit}` };
  }

  private onInstanceLine(pi: PooledInstance, line: InstanceLogLine): void {
    const requestId = line.requestId ?? pi.currentRequestId ?? pi.lastRequestId;
    const ts = this.clock.now();
    const message = line.stream === 'console' ? formatOutputLine(ts, requestId, line.level ?? 'INFO', line.text) : line.text;
    // A pipelined call's lines can arrive before its turn: they are not the current call's.
    if (requestId === pi.currentRequestId) pi.collected?.push(message);
    this.options.logs.append({
      ts,
      functionName: pi.target.config.name,
      version: pi.target.config.version,
      instanceId: pi.id,
      requestId,
      kind: 'output',
      message,
    });
  }

  private evictFor(memoryMb: number): boolean {
    const candidates: Array<{ pool: Pool; pi: PooledInstance }> = [];
    for (const pool of this.pools.values()) {
      const pi = pool.oldestIdle();
      if (pi) candidates.push({ pool, pi });
    }
    candidates.sort((a, b) => a.pi.idleSince - b.pi.idleSince);
    let freed = this.budget.freeMb;
    for (const { pool, pi } of candidates) {
      if (freed >= memoryMb) break;
      freed += pi.memoryMb;
      pool.evict(pi);
    }
    return this.budget.freeMb >= memoryMb;
  }

  /**
   * Apply the keep-alive (the timer calls this; tests call it with a moved clock): stop idle
   * instances past their keep-alive, let the warm-memory budget take back idle memory, start the
   * pre-warms the adaptive policy planned (and the budget kept), keep the provisioned floors.
   */
  reapIdle(): void {
    const now = this.clock.now();
    const ticks: Array<{ key: string; pool: Pool; tick: KeepAliveTick }> = [];
    const budgeted: BudgetedVersion[] = [];
    for (const [key, pool] of this.pools) {
      const scaling = pool.currentTarget.scaling;
      const fixedMs = (scaling.keepAliveSec ?? this.options.defaultKeepAliveSec) * 1000;
      const policy = scaling.keepAlivePolicy ?? this.options.defaultKeepAlivePolicy ?? 'fixed';
      const tick = pool.keepAlive.tick(now, policy, fixedMs);
      pool.reap(tick.decision, tick.functionIdleSince);
      ticks.push({ key, pool, tick });
      if (this.warmBudget && policy === 'adaptive') {
        this.budgetedMemoryMb.set(key, pool.currentTarget.config.memoryMb);
        budgeted.push({ key, keepAlive: pool.keepAlive, pool, memoryMb: pool.currentTarget.config.memoryMb, tick });
      } else {
        this.budgetedMemoryMb.delete(key);
      }
    }
    if (this.warmBudget) {
      // A version scaled to zero holds nothing, but what its fixed keep-alive would hold still counts.
      for (const [key, memoryMb] of this.budgetedMemoryMb) {
        const keepAlive = this.keepAlives.get(key);
        if (keepAlive && !this.pools.has(key)) budgeted.push({ key, keepAlive, pool: undefined, memoryMb, tick: undefined });
      }
      this.warmBudget.apply(now, budgeted, this.options.reapIntervalMs);
    }
    for (const { key, pool, tick } of ticks) {
      if (tick.prewarmUntil !== undefined && pool.keepAlive.prewarmPending(now) && pool.prewarm(tick.prewarmUntil)) pool.keepAlive.prewarmDone();
      pool.ensureMinimum();
      // An empty pool goes (its keep-alive state stays), unless a pre-warm is still to come.
      if (pool.isEmpty && !pool.keepAlive.prewarmPending(now)) this.pools.delete(key);
    }
  }

  /** What the warm-memory budget has done so far (undefined when it is off). */
  warmBudgetStats(): WarmMemoryBudget['stats'] | undefined {
    return this.warmBudget?.budget.stats;
  }

  /** The keep-alive decision of each version of a function that has run (for the API and the dashboard). */
  keepAliveStatus(functionName: string, scaling: { readonly keepAliveSec: number | null; readonly keepAlivePolicy?: KeepAlivePolicyName }): Array<{ version: string } & KeepAliveStatus> {
    const now = this.clock.now();
    const fixedMs = (scaling.keepAliveSec ?? this.options.defaultKeepAliveSec) * 1000;
    const policy = scaling.keepAlivePolicy ?? this.options.defaultKeepAlivePolicy ?? 'fixed';
    const out: Array<{ version: string } & KeepAliveStatus> = [];
    for (const [key, keepAlive] of this.keepAlives) {
      if (!key.startsWith(`${functionName}:`)) continue;
      out.push({ version: key.slice(functionName.length + 1), ...keepAlive.status(now, policy, fixedMs) });
    }
    return out;
  }

  /** The last cold starts of a function, newest first, with their phases. */
  recentColdStarts(functionName: string): ColdStartRecord[] {
    return this.coldStartLog.recent(functionName);
  }

  /** Report an instance's cold start once (with its first invocation, when one ran). */
  private reportColdStart(pi: PooledInstance, requestId?: string, firstInvokeMs?: number): ColdStartRecord | undefined {
    const pending = pi.coldStart;
    if (!pending) return undefined;
    pi.coldStart = undefined;
    const record: ColdStartRecord =
      requestId === undefined ? pending : { ...pending, requestId, phases: { ...(pending.phases ?? { fetchMs: 0 }), firstInvokeMs } };
    this.coldStartLog.add(record);
    if (this.listenerCount('coldstart') > 0) this.emit('coldstart', record);
    return record;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Pool keys by configuration (a configuration object stands for one function version). */
const POOL_KEYS = new WeakMap<InvocationTarget['config'], string>();

/** name:version; remembered per configuration, so that each call neither builds nor hashes a new string. */
function poolKey(target: InvocationTarget): string {
  let key = POOL_KEYS.get(target.config);
  if (key === undefined) {
    key = `${target.config.name}:${target.config.version}`;
    POOL_KEYS.set(target.config, key);
  }
  return key;
}
