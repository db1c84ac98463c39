import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fromPackageRoot } from '../../shared/paths.js';
import { ModelfnError } from '../../shared/errors.js';
import type { Instance, InstanceExit, InstanceSpec, InvokeRequest, InvokeResponse, LambdaError, Runtime, RuntimeInitPhases } from '../runtime.js';
import { InitFailure, InstanceDied, describeExit } from '../runtime.js';
import { SupervisedProcess } from '../process/child-process.js';
import { FRAME, FrameDecoder, encodeFrame } from './bootstrap/frames.js';
import type { Frame } from './bootstrap/frames.js';

const BOOTSTRAP = fromPackageRoot('dist', 'src', 'runtimes', 'nodejs', 'bootstrap', 'index.js');

/** Node.js handlers (CommonJS and ESM, async and callback style), one OS process per instance. */
export class NodejsRuntime implements Runtime {
  readonly family = 'nodejs';
  readonly identifiers = ['nodejs20.x', 'nodejs22.x', 'nodejs18.x'];

  constructor(private readonly nodePath: string = process.execPath) {}

  validate(config: { handler: string }): void {
    const rest = config.handler.slice(config.handler.lastIndexOf('/') + 1);
    const dot = rest.indexOf('.');
    if (dot <= 0 || dot === rest.length - 1) {
      throw new ModelfnError('INVALID_PARAMETER', `handler ${JSON.stringify(config.handler)} must look like module.function (e.g. index.handler)`);
    }
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    // V8's heap limit keeps most runaway allocations inside the function's memory; the platform's
    // RSS watchdog covers native memory (Buffers) that the heap limit does not see.
    const heapMb = Math.max(32, Math.floor(spec.config.memoryMb * 0.85));
    const spawnedAt = performance.timeOrigin + performance.now();
    const proc = new SupervisedProcess({
      command: this.nodePath,
      args: [`--max-old-space-size=${heapMb}`, '--enable-source-maps', BOOTSTRAP],
      cwd: spec.codeDir,
      env: { ...spec.env, MODELFN_CHANNEL_FD: '3', NODE_OPTIONS: '' },
      extraPipes: 1,
      onLog: spec.onLog,
    });
    const instance = new NodejsInstance(spec, proc, spawnedAt);
    await instance.ready(spec.initTimeoutMs);
    return instance;
  }
}

interface Pending {
  readonly id: string;
  resolve(response: InvokeResponse): void;
  reject(err: Error): void;
}

class NodejsInstance implements Instance {
  readonly id: string;
  private readonly channel: Socket;
  private pending: Pending | undefined;
  private fatal = false;
  private readyWaiter: { resolve(): void; reject(err: Error): void } | undefined;
  initPhases: RuntimeInitPhases | undefined;

  constructor(
    private readonly spec: InstanceSpec,
    private readonly proc: SupervisedProcess,
    private readonly spawnedAt: number,
  ) {
    this.id = spec.id;
    this.channel = proc.child.stdio[3] as Socket;
    const decoder = new FrameDecoder((frame) => this.onFrame(frame));
    this.channel.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch {
        // A corrupted channel means the process is not a trustworthy runtime any more.
        this.kill();
      }
    });
    this.channel.on('error', () => this.kill());
    void proc.exited.then((exit) => this.onExit(exit));
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
    if (this.proc.hasExited) return Promise.reject(new InstanceDied({ code: null, signal: null }, 'instance has exited'));
    if (this.pending) return Promise.reject(new Error(`instance ${this.id} is busy`));
    return new Promise<InvokeResponse>((resolve, reject) => {
      this.pending = { id: request.requestId, resolve, reject };
      const head = JSON.stringify({
        id: request.requestId,
        deadline: request.deadlineMs,
        arn: request.invokedFunctionArn,
        clientContext: request.clientContext,
        identity: request.cognitoIdentity,
        trace: request.traceId,
      });
      this.channel.write(encodeFrame(FRAME.invoke, head, request.payload));
    });
  }

  kill(): void {
    this.proc.kill();
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case FRAME.ready:
        this.initPhases = readPhases(frame.head, this.spawnedAt);
        this.readyWaiter?.resolve();
        this.readyWaiter = undefined;
        return;
      case FRAME.initError:
        this.readyWaiter?.reject(new InitFailure(parseError(frame.body)));
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
        const head = JSON.parse(frame.head) as { id: string; fatal?: boolean };
        if (head.fatal) this.fatal = true;
        const pending = this.pending;
        // An answer for a request this instance does not hold is ignored: ids are never reused.
        if (!pending || pending.id !== head.id) return;
        this.pending = undefined;
        if (frame.type === FRAME.result) pending.resolve({ ok: true, payload: frame.body });
        else pending.resolve({ ok: false, error: parseError(frame.body) });
        return;
      }
      default:
        this.kill();
    }
  }

  private onExit(exit: InstanceExit): void {
    const message = `Runtime exited with error: ${describeExit(exit)}`;
    this.readyWaiter?.reject(new InitFailure({ errorType: 'Runtime.ExitError', errorMessage: message }));
    this.readyWaiter = undefined;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(new InstanceDied(exit, message));
  }
}

/** The bootstrap's ready frame says when it began (epoch ms) and how long its init steps took. */
function readPhases(head: string, spawnedAt: number): RuntimeInitPhases | undefined {
  try {
    const p = JSON.parse(head) as { began?: unknown; runtimeInitMs?: unknown; userInitMs?: unknown };
    if (typeof p.began !== 'number' || typeof p.runtimeInitMs !== 'number' || typeof p.userInitMs !== 'number') return undefined;
    return { processStartMs: Math.max(0, p.began - spawnedAt), runtimeInitMs: Math.max(0, p.runtimeInitMs), userInitMs: Math.max(0, p.userInitMs) };
  } catch {
    return undefined;
  }
}

function parseError(body: Buffer): LambdaError {
  try {
    const e = JSON.parse(body.toString('utf8')) as Partial<LambdaError>;
    return {
      errorType: typeof e.errorType === 'string' ? e.errorType : 'Error',
      errorMessage: typeof e.errorMessage === 'string' ? e.errorMessage : '',
      stackTrace: Array.isArray(e.stackTrace) ? e.stackTrace.map(String) : [],
    };
  } catch {
    return { errorType: 'Runtime.InvalidResponse', errorMessage: 'the runtime reported an error that is not JSON' };
  }
}
