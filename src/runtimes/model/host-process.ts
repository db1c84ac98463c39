import { randomBytes } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { basename, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ModelFormat } from '../../models/codecs/signature.js';
import { fromPackageRoot } from '../../shared/paths.js';
import { SupervisedProcess } from '../process/child-process.js';
import { RUNTIME_ROOT, TASK_ROOT } from '../sandbox/bwrap-args.js';
import { processLimits } from '../sandbox/limits.js';
import { esmMarker, executableMounts } from '../sandbox/sandbox.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { InstanceExit, InstanceLogLine, InvokeResponse } from '../runtime.js';
import { InitFailure, InstanceDied, describeExit, parseChannelError } from '../runtime.js';
import { FRAME, FrameDecoder, encodeFrame } from './protocol.js';
import type { Frame, LoadHead, ReadyHead } from './protocol.js';

const HOST = fromPackageRoot('dist', 'src', 'runtimes', 'model', 'host', 'index.js');
/** The platform's files a sandboxed model host needs, and where they are inside. */
const SANDBOX_ROOT = `${RUNTIME_ROOT}/modelfn`;
const SANDBOX_HOST = `${SANDBOX_ROOT}/dist/src/runtimes/model/host/index.js`;
const HOST_FILES = ['dist', 'node_modules', join('src', 'runtimes', 'model', 'assets')];

/** A sandboxed host: the sandbox, and the folder under which each host gets its own (empty) task folder. */
export interface HostSandboxing {
  readonly sandbox: Sandbox;
  readonly cellsDir: string;
}

export interface HostSpawnOptions {
  readonly nodePath: string;
  readonly format: ModelFormat;
  readonly memoryMb: number;
  /** A small model of the format to warm up with while waiting as a spare. */
  readonly warmupFile?: string;
  /**
   * Run in a sandbox: no user code runs in a host, but it parses untrusted model files with native
   * code (ONNX Runtime). No network; /var/task is the host's own folder, empty until it is given a
   * model (see place()).
   */
  readonly sandbox?: HostSandboxing;
}

interface Pending {
  readonly id: string;
  resolve(response: InvokeResponse): void;
  reject(err: Error): void;
}

/**
 * One model host process and the channel to it. It starts generic (no model), may wait as a
 * spare, then loads exactly one model and serves it until it is stopped.
 */
export class HostProcess {
  readonly format: ModelFormat;
  readonly memoryMb: number;
  private readonly proc: SupervisedProcess;
  private readonly channel: Socket;
  private logTarget: (line: InstanceLogLine) => void = () => undefined;
  private loadWaiter: { resolve(head: ReadyHead): void; reject(err: Error): void } | undefined;
  private pending: Pending | undefined;
  private loaded = false;
  private taken = false;
  /** Resolves when the host has booted (engine imported, warmed up when a spare): it waits for a model. */
  readonly ready: Promise<void>;
  /** performance.now() when it reported ready, undefined before. */
  readyAt: number | undefined;
  private resolveReady: () => void = () => undefined;
  /** Sandboxed: the host folder shown at /var/task. */
  private readonly cellDir: string | undefined;

  constructor(options: HostSpawnOptions) {
    this.format = options.format;
    this.memoryMb = options.memoryMb;
    const heapMb = Math.max(32, Math.floor(options.memoryMb * 0.85));
    // No user code runs here: the environment is minimal and HOME points nowhere, so nothing
    // (ONNX Runtime's telemetry included, which is also switched off) can persist files.
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', TZ: 'UTC', HOME: '/nonexistent', ORT_DISABLE_TELEMETRY: '1', NODE_OPTIONS: '' };
    const onLog = (line: InstanceLogLine) => this.logTarget(line);
    const sandboxing = options.sandbox;
    if (sandboxing) {
      this.cellDir = join(sandboxing.cellsDir, randomBytes(8).toString('hex'));
      mkdirSync(join(this.cellDir, 'task'), { recursive: true, mode: 0o755 });
      const warmup = options.warmupFile ? [`${SANDBOX_ROOT}/${relative(fromPackageRoot(), options.warmupFile)}`] : [];
      this.proc = sandboxing.sandbox.spawn({
        taskDir: join(this.cellDir, 'task'),
        mounts: [
          ...executableMounts(options.nodePath),
          ...HOST_FILES.map((part) => ({ source: fromPackageRoot(part), target: `${SANDBOX_ROOT}/${part}` })),
          esmMarker(SANDBOX_ROOT),
        ],
        network: 'deny',
        tmpSizeMb: 64,
        limits: processLimits('model', options.memoryMb, 64),
        command: options.nodePath,
        args: [`--max-old-space-size=${heapMb}`, SANDBOX_HOST, options.format, ...warmup],
        cwd: '/',
        env,
        extraPipes: 1,
        onLog,
      });
      const dir = this.cellDir;
      void this.proc.exited.then(() => rmSync(dir, { recursive: true, force: true }));
    } else {
      this.proc = new SupervisedProcess({
        command: options.nodePath,
        args: [`--max-old-space-size=${heapMb}`, HOST, options.format, ...(options.warmupFile ? [options.warmupFile] : [])],
        cwd: '/',
        env,
        extraPipes: 1,
        onLog,
      });
    }
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      void this.proc.exited.then(() => reject(new Error('the model host exited')));
    });
    this.ready.catch(() => undefined);
    this.channel = this.proc.child.stdio[3] as Socket;
    const decoder = new FrameDecoder((frame) => this.onFrame(frame));
    this.channel.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch {
        this.kill();
      }
    });
    this.channel.on('error', () => this.kill());
    void this.proc.exited.then((exit) => this.onExit(exit));
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return !this.proc.hasExited;
  }

  get exited(): Promise<InstanceExit> {
    return this.proc.exited;
  }

  /**
   * The path under which this host reads a model file: the file itself, or (sandboxed) a hard link
   * to it in the host's own /var/task, which it sees and nothing else of the bundle.
   */
  place(modelFile: string): string {
    if (this.cellDir === undefined) return modelFile;
    const name = basename(modelFile);
    const target = join(this.cellDir, 'task', name);
    try {
      linkSync(modelFile, target);
    } catch {
      copyFileSync(modelFile, target); // another file system, or hard links not allowed here
    }
    return `${TASK_ROOT}/${name}`;
  }

  /** Claim this process for one instance (a spare is handed out once). */
  claim(onLog: (line: InstanceLogLine) => void): void {
    if (this.taken) throw new Error('model host already claimed');
    this.taken = true;
    this.logTarget = onLog;
  }

  /** Load the model; resolves with its signature, rejects with InitFailure. */
  load(head: LoadHead, timeoutMs: number): Promise<ReadyHead> {
    if (this.proc.hasExited) return Promise.reject(new InitFailure({ errorType: 'Runtime.ExitError', errorMessage: 'the model host exited before loading' }));
    return new Promise<ReadyHead>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.loadWaiter = undefined;
        this.kill();
        reject(new InitFailure({ errorType: 'Runtime.InitTimeout', errorMessage: `the model did not load within ${(timeoutMs / 1000).toFixed(2)} seconds` }));
      }, timeoutMs);
      this.loadWaiter = {
        resolve: (h) => { clearTimeout(timer); resolve(h); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.channel.write(encodeFrame(FRAME.load, JSON.stringify(head)));
    });
  }

  invoke(id: string, payload: Buffer): Promise<InvokeResponse> {
    if (this.proc.hasExited) return Promise.reject(new InstanceDied({ code: null, signal: null }, 'model host has exited'));
    if (!this.loaded) return Promise.reject(new Error('model host has no model loaded'));
    if (this.pending) return Promise.reject(new Error('model host is busy'));
    return new Promise<InvokeResponse>((resolve, reject) => {
      this.pending = { id, resolve, reject };
      this.channel.write(encodeFrame(FRAME.invoke, JSON.stringify({ id }), payload));
    });
  }

  kill(): void {
    this.proc.kill();
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case FRAME.spare:
        this.readyAt ??= performance.now();
        this.resolveReady();
        return;
      case FRAME.ready: {
        this.loaded = true;
        this.loadWaiter?.resolve(JSON.parse(frame.head) as ReadyHead);
        this.loadWaiter = undefined;
        return;
      }
      case FRAME.initError:
        this.loadWaiter?.reject(new InitFailure(parseChannelError(frame.body, 'the model host')));
        this.loadWaiter = undefined;
        this.kill();
        return;
      case FRAME.log: {
        const head = JSON.parse(frame.head) as { level?: string };
        this.logTarget({ stream: 'console', text: frame.body.toString('utf8'), level: head.level ?? 'INFO' });
        return;
      }
      case FRAME.result:
      case FRAME.error: {
        const head = JSON.parse(frame.head) as { id: string };
        const pending = this.pending;
        if (!pending || pending.id !== head.id) return;
        this.pending = undefined;
        if (frame.type === FRAME.result) pending.resolve({ ok: true, payload: frame.body });
        else pending.resolve({ ok: false, error: parseChannelError(frame.body, 'the model host') });
        return;
      }
      default:
        this.kill();
    }
  }

  private onExit(exit: InstanceExit): void {
    const message = `Runtime exited with error: ${describeExit(exit)}`;
    this.loadWaiter?.reject(new InitFailure({ errorType: 'Runtime.ExitError', errorMessage: message }));
    this.loadWaiter = undefined;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(new InstanceDied(exit, message));
  }
}
