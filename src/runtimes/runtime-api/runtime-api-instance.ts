import type { Socket } from 'node:net';
import { LineSplitter } from '../process/line-splitter.js';
import type { Instance, InstanceExit, InstanceLogLine, InvokeRequest, InvokeResponse } from '../runtime.js';
import { InitFailure, InstanceDied, describeExit } from '../runtime.js';
import { InvocationSession } from './invocation-session.js';
import { RuntimeApiServer } from './runtime-api-server.js';
import type { PeerVerifier } from './runtime-api-server.js';
import type { PeerOwner } from './peer-check.js';

/** A runtime process as the Runtime API instance sees it: spawned directly or forked by a zygote. */
export interface ProcessHandle {
  readonly pid: number | undefined;
  /**
   * The process whose connections the Runtime API accepts and the session they may also come
   * from, when that is known only later or differs from `pid` (a sandbox: the runtime inside, and
   * the sandbox's pid 1 that leads the session). Absent: `pid`, which leads its own session.
   */
  readonly peerOwner?: Promise<PeerOwner>;
  readonly hasExited: boolean;
  readonly exited: Promise<InstanceExit>;
  /** SIGKILL the process and its group; safe to call more than once. */
  kill(): void;
}

export interface RuntimeApiEndpointOptions {
  readonly onLog: (line: InstanceLogLine) => void;
  readonly maxBodyBytes?: number;
  readonly verifyPeer?: PeerVerifier;
  /** A unix socket instead of loopback TCP (a sandbox without a network): its path on the host and inside. */
  readonly socket?: { readonly hostPath: string; readonly sandboxPath: string };
}

/** Log streams of a dead process are read for this long at most (a grandchild may hold them open). */
const LOG_DRAIN_MS = 250;

/** The stdout/stderr streams a forked instance sends over upgraded connections, split into lines. */
class LogStreams {
  private readonly sockets = new Set<Socket>();

  constructor(private readonly onLog: (line: InstanceLogLine) => void) {}

  attach(stream: 'stdout' | 'stderr', socket: Socket): void {
    this.sockets.add(socket);
    const splitter = new LineSplitter((text) => this.onLog({ stream, text }));
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      splitter.flush();
      this.sockets.delete(socket);
    });
  }

  /** Give the streams a moment to deliver what the process wrote last, then cut them. */
  close(): void {
    for (const socket of this.sockets) {
      const timer = setTimeout(() => socket.destroy(), LOG_DRAIN_MS);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    }
  }
}

/**
 * The Runtime API side of one instance, opened before its process exists so that its address can
 * go into the process's environment (AWS_LAMBDA_RUNTIME_API).
 */
export class RuntimeApiEndpoint {
  private constructor(
    readonly server: RuntimeApiServer,
    readonly session: InvocationSession,
    private readonly logs: LogStreams,
    private readonly sandboxPath?: string,
  ) {}

  static async open(options: RuntimeApiEndpointOptions): Promise<RuntimeApiEndpoint> {
    const session = new InvocationSession();
    const logs = new LogStreams(options.onLog);
    const server = await RuntimeApiServer.listen({
      session,
      maxBodyBytes: options.maxBodyBytes,
      verifyPeer: options.verifyPeer,
      onLogStream: (stream, socket) => logs.attach(stream, socket),
      ...(options.socket ? { socketPath: options.socket.hostPath } : {}),
    });
    return new RuntimeApiEndpoint(server, session, logs, options.socket?.sandboxPath);
  }

  /** AWS_LAMBDA_RUNTIME_API as the instance sees it (host:port, or unix:<path inside its sandbox>). */
  get address(): string {
    return this.sandboxPath !== undefined ? `unix:${this.sandboxPath}` : this.server.address;
  }

  /** The same address as the platform's own processes see it (the Python zygote opens log streams there). */
  get hostAddress(): string {
    return this.server.address;
  }

  close(): void {
    this.server.close();
    this.logs.close();
  }
}

/**
 * An instance whose runtime speaks the Lambda Runtime API (custom `provided` bootstraps, the
 * Python bootstrap): the process is any ProcessHandle, the protocol is the endpoint's session.
 */
export class RuntimeApiInstance implements Instance {
  private killed = false;

  constructor(
    readonly id: string,
    private readonly endpoint: RuntimeApiEndpoint,
    private readonly proc: ProcessHandle,
  ) {
    if (proc.peerOwner) proc.peerOwner.then((owner) => endpoint.server.setOwner(owner), () => undefined);
    else if (proc.pid !== undefined) endpoint.server.setOwner(proc.pid);
    void proc.exited.then((exit) => this.onExit(exit));
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return !this.killed && !this.proc.hasExited;
  }

  get exited(): Promise<InstanceExit> {
    return this.proc.exited;
  }

  /** The init phase: resolves on the runtime's first `next`; rejects with InitFailure otherwise. */
  async ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new InitFailure({ errorType: 'Runtime.InitTimeout', errorMessage: `Init phase did not finish within ${(timeoutMs / 1000).toFixed(2)} seconds` }));
      }, timeoutMs);
    });
    try {
      await Promise.race([this.endpoint.session.ready, timeout]);
    } catch (err) {
      this.kill();
      // Let the log lines written before the failure arrive before the caller reports it.
      await new Promise((resolve) => setImmediate(resolve));
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    if (!this.alive) throw new InstanceDied({ code: null, signal: null }, 'instance has exited');
    const response = await this.endpoint.session.dispatch(request);
    // The answer came over HTTP, the function's output over a pipe or socket: lines it wrote before
    // answering are read in this turn of the event loop, so they still carry this request's id.
    await new Promise((resolve) => setImmediate(resolve));
    return response;
  }

  kill(): void {
    this.killed = true;
    this.proc.kill();
  }

  private onExit(exit: InstanceExit): void {
    const reason = exit.code === 0 && !exit.signal ? 'Runtime exited without providing a reason' : `Runtime exited with error: ${describeExit(exit)}`;
    this.endpoint.session.close(new InitFailure({ errorType: 'Runtime.ExitError', errorMessage: reason }), new InstanceDied(exit, reason));
    this.endpoint.close();
  }
}
