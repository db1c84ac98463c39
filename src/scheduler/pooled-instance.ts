import type { Instance, InstanceLogLine } from '../runtimes/runtime.js';
import type { InvocationTarget } from './invocation.js';
import type { ColdStartRecord } from './scheduler.js';
import type { WatchedProcess } from './memory-watchdog.js';

export type InstanceState = 'starting' | 'idle' | 'busy' | 'stopped';

/** Why an instance was started: a waiting request, provisioned concurrency, or a pre-warm ahead of a predicted call. */
export type StartReason = 'request' | 'provisioned' | 'prewarm';

/**
 * What became of an invocation handed to a busy instance (pipelined) when its turn came: 'run'
 * (it runs now), 'gone' (the instance died before it could have started it), 'withdrawn' (the
 * instance dropped it unstarted when asked to). Only 'run' ran: the others may run elsewhere.
 */
export type TurnState = 'run' | 'gone' | 'withdrawn';

export interface Turn {
  readonly requestId: string;
  readonly resolve: (state: TurnState) => void;
}

/** The scheduler's record of one instance: its state, accounting and the invocation it serves. */
export class PooledInstance implements WatchedProcess {
  state: InstanceState = 'starting';
  instance: Instance | undefined;
  readonly startedAt: number;
  idleSince = 0;
  initDurationMs = 0;
  served = 0;
  peakRssMb = 0;
  /** Why the instance is being stopped, when the scheduler stops it mid-invocation. */
  stopCause: 'timeout' | 'memory' | undefined;
  currentRequestId: string | null = null;
  /** Output that arrives after a call ended (pipes race the result) belongs to that call. */
  lastRequestId: string | null = null;
  /** Lines of the current invocation, kept only when the caller asked for them. */
  collected: string[] | undefined;
  /** Invocations handed to the instance and not finished: the running one and those pipelined behind it. */
  assigned = 0;
  /** Pipelined invocations waiting for their turn, in order. */
  readonly turns: Turn[] = [];
  /** Capacity (ledger and memory budget) was given back. */
  released = false;
  /** A pre-warmed instance is kept idle until this time (epoch ms), whatever the keep-alive says; cleared once it serves. */
  holdUntil: number | undefined;
  /** The cold start's record, until it is reported (after the first invocation, or when the instance goes idle unused). */
  coldStart: ColdStartRecord | undefined;

  constructor(
    readonly id: string,
    readonly target: InvocationTarget,
    now: number,
    private readonly onLine: (pi: PooledInstance, line: InstanceLogLine) => void,
    readonly startedBy: StartReason = 'request',
  ) {
    this.startedAt = now;
  }

  get pid(): number | undefined {
    return this.instance?.pid;
  }

  get memoryMb(): number {
    return this.target.config.memoryMb;
  }

  get revisionId(): string {
    return this.target.config.revisionId;
  }

  get functionName(): string {
    return this.target.config.name;
  }

  /** The instance takes invocations while one runs (see Instance.pipelining). */
  get pipelining(): boolean {
    return this.instance?.pipelining === true;
  }

  get busy(): boolean {
    return this.state === 'busy';
  }

  get alive(): boolean {
    return this.state !== 'stopped' && (this.instance?.alive ?? true);
  }

  handleLog = (line: InstanceLogLine): void => this.onLine(this, line);

  onOverLimit(): void {
    if (this.stopCause === undefined) this.stopCause = 'memory';
    this.instance?.kill();
  }
}
