import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ModelfnError } from '../../shared/errors.js';
import { jsonNumber, jsonString } from '../../shared/json.js';
import type { Instance, InstanceExit, InstanceSpec, InvokeRequest, InvokeResponse, Runtime, RuntimeInitPhases } from '../runtime.js';
import { InitFailure, InstanceDied, InvocationWithdrawn, describeExit, parseChannelError } from '../runtime.js';
import { StemCellPool } from '../stem-cells/stem-cell-pool.js';
import { StemCells } from '../stem-cells/stem-cells.js';
import { FRAME, FrameBatch, encodeFrame } from './bootstrap/frames.js';
import type { Frame } from './bootstrap/frames.js';
import { NodeProcess } from './node-process.js';
import { NodeStemCell, stemCellBlocker } from './stem-cell.js';
import { TASK_ROOT } from '../sandbox/bwrap-args.js';
import { DEFAULT_TMP_MB, networkOf, tmpSizeOf } from '../sandbox/limits.js';
import { Sandbox } from '../sandbox/sandbox.js';

export interface NodejsRuntimeOptions {
  readonly nodePath?: string;
  /** The platform's stem cells (switch and budget); absent: none. */
  readonly stemCells?: StemCells;
  /** Stem cells kept per memory size (default 2). */
  readonly stemCellsPerSize?: number;
  /** Memory sizes kept (default 2, the most recently used). */
  readonly stemCellSizes?: number;
  /** Every process in its own sandbox (default: none). */
  readonly sandbox?: Sandbox;
  /** Sandboxed stem cells: where each gets its own task folder (required with an enabled sandbox). */
  readonly cellsDir?: string;
}

/** What a Node.js stem cell holds before it takes a function (resident size, measured on this machine). */
const STEM_CELL_ESTIMATE_MB = 48;

/**
 * Node.js handlers (CommonJS and ESM, async and callback style), one OS process per instance. A
 * cold start takes a stem cell of the function's memory size when one waits (a started bootstrap
 * with no function: it takes on the instance's environment and working directory, then loads the
 * handler), else it starts a new process.
 */
export class NodejsRuntime implements Runtime {
  readonly family = 'nodejs';
  readonly identifiers = ['nodejs20.x', 'nodejs22.x', 'nodejs18.x'];
  private readonly nodePath: string;
  private readonly stemCells: StemCellPool<NodeStemCell>;
  private readonly sandbox: Sandbox;

  constructor(options: NodejsRuntimeOptions | string = {}) {
    const o = typeof options === 'string' ? { nodePath: options } : options;
    this.nodePath = o.nodePath ?? process.execPath;
    this.sandbox = o.sandbox ?? Sandbox.none();
    if (this.sandbox.enabled && !o.cellsDir) throw new Error('a sandboxed Node.js runtime needs a folder for its stem cells');
    const cells = this.sandbox.enabled ? { sandbox: this.sandbox, cellsDir: o.cellsDir! } : undefined;
    this.stemCells = new StemCellPool<NodeStemCell>({
      runtime: this.family,
      hub: o.stemCells ?? StemCells.off(),
      spawn: (key) => new NodeStemCell(this.nodePath, Number(key), cells),
      estimateMb: () => STEM_CELL_ESTIMATE_MB,
      perKind: o.stemCellsPerSize ?? 2,
      maxKinds: o.stemCellSizes ?? 2,
    });
  }

  validate(config: { handler: string }): void {
    const rest = config.handler.slice(config.handler.lastIndexOf('/') + 1);
    const dot = rest.indexOf('.');
    if (dot <= 0 || dot === rest.length - 1) {
      throw new ModelfnError('INVALID_PARAMETER', `handler ${JSON.stringify(config.handler)} must look like module.function (e.g. index.handler)`);
    }
  }

  /** A deploy warms stem cells of the function's memory size, so its first cold start can take one. */
  async validateBundle(_codeDir: string, config: { memoryMb: number; environment: Readonly<Record<string, string>> }): Promise<Record<string, never>> {
    if (!stemCellBlocker(config.environment)) this.prime(config.memoryMb);
    return {};
  }

  /** Keep stem cells of a memory size ready. */
  prime(memoryMb: number): void {
    this.stemCells.prime(String(memoryMb));
  }

  /** Stem cells waiting now. */
  get stemCellCount(): number {
    return this.stemCells.size;
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    const sandboxed = this.sandbox.enabled;
    const network = networkOf(spec.config);
    const tmpSizeMb = tmpSizeOf(spec.config);
    // A sandboxed stem cell was started with the usual network and /tmp: a function that differs gets its own.
    const blocked = stemCellBlocker(spec.config.environment) !== undefined || (sandboxed && (network !== 'allow' || tmpSizeMb !== DEFAULT_TMP_MB));
    let cell = blocked ? undefined : this.stemCells.take(String(spec.config.memoryMb));
    if (cell && !cell.fill(spec.codeDir)) {
      cell.kill();
      cell = undefined;
    }
    // Inside a sandbox the code is at /var/task (the environment already says so).
    const codeDir = sandboxed ? TASK_ROOT : spec.codeDir;
    if (cell) {
      // The stem cell takes the function: its environment wholesale and its working directory,
      // then it loads the handler (the bootstrap does it in that order, before any user code).
      const sentAt = performance.timeOrigin + performance.now();
      const instance = new NodejsInstance(spec, cell.process, sentAt, true);
      cell.process.channel.write(encodeFrame(FRAME.specialize, JSON.stringify({ env: { ...spec.env, NODE_OPTIONS: '' }, cwd: codeDir })));
      await instance.ready(spec.initTimeoutMs);
      return instance;
    }
    const spawnedAt = performance.timeOrigin + performance.now();
    const sandboxing = sandboxed ? { sandbox: this.sandbox, taskDir: spec.codeDir, network, tmpSizeMb } : undefined;
    const node = new NodeProcess(this.nodePath, spec.config.memoryMb, codeDir, { ...spec.env, NODE_OPTIONS: '' }, sandboxing);
    const instance = new NodejsInstance(spec, node, spawnedAt, false);
    await instance.ready(spec.initTimeoutMs);
    return instance;
  }

  /** Stop the waiting stem cells (instances are the scheduler's to stop). */
  close(): Promise<void> {
    return this.stemCells.close();
  }
}

/**
 * The invoke frame's head, {id, deadline, arn, timeout?, clientContext?, identity?, trace?},
 * written out (it is built for every call; JSON.stringify of the object cost twice as much).
 */
export function invokeHead(request: InvokeRequest): string {
  let head = `{"id":${jsonString(request.requestId)},"deadline":${jsonNumber(request.deadlineMs)},"arn":${jsonString(request.invokedFunctionArn)}`;
  if (request.timeoutMs !== undefined) head += `,"timeout":${jsonNumber(request.timeoutMs)}`;
  if (request.clientContext !== undefined) head += `,"clientContext":${jsonString(request.clientContext)}`;
  if (request.cognitoIdentity !== undefined) head += `,"identity":${jsonString(request.cognitoIdentity)}`;
  if (request.traceId !== undefined) head += `,"trace":${jsonString(request.traceId)}`;
  return `${head}}`;
}

function orThrow(outcome: InvokeResponse | Error): InvokeResponse {
  if (outcome instanceof Error) throw outcome;
  return outcome;
}

/** Settles a call with its answer, or with the Error that ended it (death, withdrawal). */
type Settle = (outcome: InvokeResponse | Error) => void;

class NodejsInstance implements Instance {
  readonly id: string;
  readonly pipelining = true;
  private readonly channel: Socket;
  private readonly answers: Socket;
  private readonly proc: NodeProcess['proc'];
  /** Invocations handed over and not answered, by request id (the bootstrap runs them in order). */
  private readonly pending = new Map<string, Settle>();
  /** Frames for the instance queued in this event-loop turn (see send()). */
  private readonly outbox = new FrameBatch();
  private fatal = false;
  private readyWaiter: { resolve(): void; reject(err: Error): void } | undefined;
  initPhases: RuntimeInitPhases | undefined;

  constructor(
    private readonly spec: InstanceSpec,
    node: NodeProcess,
    /** Epoch ms when the process was spawned, or the stem cell was handed the function. */
    private readonly startedAt: number,
    private readonly stemCell: boolean,
  ) {
    this.id = spec.id;
    this.channel = node.channel;
    this.answers = node.answers;
    this.proc = node.proc;
    node.onFrame = (frame) => this.onFrame(frame);
    node.onLog = spec.onLog;
    void this.proc.exited.then((exit) => this.afterChannelDrained(() => this.onExit(exit)));
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return !this.fatal && !this.proc.hasExited;
  }

  get exited(): Promise<InstanceExit> {
    return this.proc.exited;
  }

  ready(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiter = undefined;
        this.kill();
        reject(new InitFailure({ errorType: 'Runtime.InitTimeout', errorMessage: `Init phase did not finish within ${(timeoutMs / 1000).toFixed(2)} seconds` }));
      }, timeoutMs);
      this.readyWaiter = {
        resolve: () => { clearTimeout(timer); resolve(); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      };
    });
  }

  invoke(request: InvokeRequest): Promise<InvokeResponse> {
    return this.invokeSettled(request).then(orThrow);
  }

  invokeSettled(request: InvokeRequest): Promise<InvokeResponse | Error> {
    if (this.proc.hasExited) return Promise.resolve(new InstanceDied({ code: null, signal: null }, 'instance has exited'));
    if (this.pending.has(request.requestId)) return Promise.resolve(new Error(`instance ${this.id} already holds ${request.requestId}`));
    return new Promise<InvokeResponse | Error>((settle) => {
      this.pending.set(request.requestId, settle);
      this.send(FRAME.invoke, invokeHead(request), request.payload);
    });
  }

  withdraw(requestId: string): void {
    // Through the same queue as the invoke frames: a withdraw never overtakes the call it names.
    if (this.pending.has(requestId) && !this.proc.hasExited) this.send(FRAME.withdraw, JSON.stringify({ id: requestId }));
  }

  /**
   * Under load the platform hands an instance several invocations in one event-loop turn: they
   * leave in one write at the turn's end instead of a syscall (and a wake-up) each.
   */
  private send(type: typeof FRAME.invoke | typeof FRAME.withdraw, head: string, body?: Buffer): void {
    if (this.outbox.size === 0) setImmediate(this.flushOutbox);
    this.outbox.add(type, head, body);
  }

  private readonly flushOutbox = (): void => {
    if (this.outbox.size > 0) this.channel.write(this.outbox.take());
  };

  kill(): void {
    this.proc.kill();
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case FRAME.ready:
        this.initPhases = readPhases(frame.head, this.startedAt, this.stemCell);
        this.readyWaiter?.resolve();
        this.readyWaiter = undefined;
        return;
      case FRAME.initError:
        this.readyWaiter?.reject(new InitFailure(parseChannelError(frame.body, 'the runtime')));
        this.readyWaiter = undefined;
        this.kill();
        return;
      case FRAME.log: {
        const head = JSON.parse(frame.head) as { id: string; level: string };
        const raw = head.level === 'stdout' || head.level === 'stderr';
        this.spec.onLog({
          stream: raw ? (head.level as 'stdout' | 'stderr') : 'console',
          text: frame.body.toString('utf8'),
          requestId: head.id || undefined,
          level: raw ? undefined : head.level,
        });
        return;
      }
      case FRAME.result:
      case FRAME.error: {
        const head = JSON.parse(frame.head) as { id: string; fatal?: boolean; ms?: number };
        if (head.fatal) this.fatal = true;
        const pending = this.pending.get(head.id);
        // An answer for a request this instance does not hold is ignored: ids are never reused.
        if (!pending) return;
        this.pending.delete(head.id);
        const runMs = typeof head.ms === 'number' && head.ms >= 0 ? head.ms : undefined;
        // The bootstrap writes every result with JSON.stringify.
        if (frame.type === FRAME.result) pending({ ok: true, payload: frame.body, runMs, validJson: true });
        else pending({ ok: false, error: parseChannelError(frame.body, 'the runtime'), runMs, fatal: head.fatal === true });
        return;
      }
      case FRAME.withdrawn: {
        const { id } = JSON.parse(frame.head) as { id: string };
        const pending = this.pending.get(id);
        if (!pending) return;
        this.pending.delete(id);
        pending(new InvocationWithdrawn(id));
        return;
      }
      case FRAME.stemReady:
        return; // a stem cell taken while it was still booting says it is up: its ready follows
      default:
        this.kill();
    }
  }

  /**
   * Answers the process wrote before it died may still sit in the channel: they are read first,
   * since they decide which invocations ran (a pipelined one behind an answered call may have
   * started; one behind an unanswered call did not).
   */
  private afterChannelDrained(then: () => void): void {
    if (this.answers.readableEnded || this.answers.destroyed) return then();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      then();
    };
    // A descendant that kept the channel open must not hold the answer back.
    const timer = setTimeout(finish, 100);
    this.answers.once('end', finish);
    this.answers.once('close', finish);
  }

  private onExit(exit: InstanceExit): void {
    const message = `Runtime exited with error: ${describeExit(exit)}`;
    this.readyWaiter?.reject(new InitFailure({ errorType: 'Runtime.ExitError', errorMessage: message }));
    this.readyWaiter = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const settle of pending) settle(new InstanceDied(exit, message));
  }
}

/**
 * The bootstrap's ready frame says when it began working for this function (epoch ms: its start,
 * or a stem cell's receipt of the function) and how long its init steps took.
 */
function readPhases(head: string, startedAt: number, stemCell: boolean): RuntimeInitPhases | undefined {
  try {
    const p = JSON.parse(head) as { began?: unknown; runtimeInitMs?: unknown; userInitMs?: unknown };
    if (typeof p.began !== 'number' || typeof p.runtimeInitMs !== 'number' || typeof p.userInitMs !== 'number') return { stemCell };
    return { processStartMs: Math.max(0, p.began - startedAt), runtimeInitMs: Math.max(0, p.runtimeInitMs), userInitMs: Math.max(0, p.userInitMs), stemCell };
  } catch {
    return { stemCell };
  }
}
