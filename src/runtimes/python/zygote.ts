import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { fromPackageRoot } from '../../shared/paths.js';
import { scheduled } from '../process/instance-scheduling.js';
import { LineSplitter } from '../process/line-splitter.js';
import { ForkedProcess } from './forked-process.js';

const ZYGOTE_SCRIPT = fromPackageRoot('src', 'runtimes', 'python', 'bootstrap', 'modelfn_zygote.py');

/** What the zygote reported once its preloads were imported. */
export interface ZygoteInfo {
  readonly pid: number;
  /** "3.11" */
  readonly python: string;
  readonly loaded: readonly string[];
  readonly failed: Readonly<Record<string, string>>;
  /** Top-level third-party modules in the zygote (a bundle shipping one of these is not forked). */
  readonly modules: ReadonlySet<string>;
  readonly threads: number;
}

export interface ZygoteOptions {
  readonly python: string;
  readonly preload: readonly string[];
  /** The zygote's own folder (cwd, HOME, TMPDIR). */
  readonly dir: string;
  readonly startTimeoutMs?: number;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

export interface ForkRequest {
  readonly id: string;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The instance's sandbox, which the forked child enters before any function code runs (see modelfn_zygote.py). */
  readonly sandbox?: ForkSandbox;
  /** The Runtime API's address as the zygote sees it (for the log streams), when it differs from the instance's. */
  readonly log?: string;
}

export interface ForkSandbox {
  /** Host pid of a process inside the sandbox (the placeholder): its namespaces are joined. */
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  /** RLIMIT_NPROC and RLIMIT_DATA (bytes) of the instance. */
  readonly processes: number;
  readonly dataBytes?: number;
  /** The sandbox's memory cgroup: the forked process joins it (writes its pid here) before it forks the instance. */
  readonly cgroupProcs?: string;
}

interface Pending {
  resolve(proc: ForkedProcess): void;
  reject(err: Error): void;
}

type Message =
  | { op: 'ready'; pid: number; python: string; loaded: string[]; failed: Record<string, string>; modules: string[]; threads: number }
  | { op: 'forked'; id: string; pid: number }
  | { op: 'fork-failed'; id: string; error: string }
  | { op: 'exit'; pid: number; code: number | null; signal: NodeJS.Signals | null };

/**
 * The platform's handle on one zygote process (modelfn_zygote.py): starts it, forks instances
 * from it, tracks the children it reports, restarts it (with backoff) when it dies. A fork is
 * only ever attempted on a ready zygote; callers fall back to a fresh interpreter otherwise.
 */
export class Zygote {
  private child: ChildProcess | undefined;
  private channel: Socket | undefined;
  private info: ZygoteInfo | undefined;
  private starting: Promise<ZygoteInfo> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly children = new Map<number, ForkedProcess>();
  private closed = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private generation = 0;

  constructor(private readonly options: ZygoteOptions) {}

  /** The zygote's report when it is ready to fork, else undefined. */
  get ready(): ZygoteInfo | undefined {
    return this.info;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Start it unless it runs or is starting; resolves when it is ready. */
  start(): Promise<ZygoteInfo> {
    if (this.closed) return Promise.reject(new Error('the zygote is closed'));
    if (this.info) return Promise.resolve(this.info);
    this.starting ??= this.launch().finally(() => (this.starting = undefined));
    return this.starting;
  }

  fork(request: ForkRequest): Promise<ForkedProcess> {
    if (!this.info || !this.channel) return Promise.reject(new Error('the zygote is not ready'));
    if (this.pending.has(request.id)) return Promise.reject(new Error(`a fork for ${request.id} is already pending`));
    const channel = this.channel;
    return new Promise<ForkedProcess>((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      channel.write(`${JSON.stringify({ op: 'fork', id: request.id, env: request.env, cwd: request.cwd, sandbox: request.sandbox, log: request.log })}\n`);
    });
  }

  /** Stop the zygote (its children are instances: the scheduler stops those). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // Instances stopped just now are still being reaped by the zygote: let it finish, or they
    // would be left to init as zombies.
    const children = [...this.children.values()].map((c) => c.exited);
    await Promise.race([Promise.all(children), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    killGroup(child);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }

  private async launch(): Promise<ZygoteInfo> {
    const generation = ++this.generation;
    const dir = join(this.options.dir, `zygote-${generation}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, 'tmp'), { recursive: true, mode: 0o700 });
    const tmp = join(dir, 'tmp');
    // Under the instance scheduling class: every instance it forks inherits it.
    const run = scheduled(this.options.python, ['-B', '-s', '-u', ZYGOTE_SCRIPT, this.options.preload.join(',')]);
    const child = spawn(run.command, run.args, {
      cwd: dir,
      // Nothing of the platform's environment: the children inherit this process's memory.
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'en_US.UTF-8', TZ: ':UTC', HOME: tmp, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    const channel = child.stdio[3] as Socket;
    this.channel = channel;
    for (const stream of [child.stdout, child.stderr]) {
      const splitter = new LineSplitter((line) => this.options.log?.('warn', `python zygote: ${line}`));
      stream?.on('data', (chunk: Buffer) => splitter.push(chunk));
    }
    return new Promise<ZygoteInfo>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new Error(`the Python zygote did not get ready within ${this.options.startTimeoutMs ?? 60_000} ms`));
        killGroup(child);
      }, this.options.startTimeoutMs ?? 60_000);
      const splitter = new LineSplitter((line) => {
        let message: Message;
        try {
          message = JSON.parse(line) as Message;
        } catch {
          return;
        }
        if (message.op === 'ready' && !settled) {
          settled = true;
          clearTimeout(timer);
          this.info = { ...message, modules: new Set(message.modules) };
          this.failures = 0;
          this.report(message);
          resolve(this.info);
        } else this.onMessage(message);
      });
      channel.on('data', (chunk: Buffer) => splitter.push(chunk));
      channel.on('error', () => undefined);
      child.once('error', () => undefined);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.onZygoteExit(child, code, signal);
        if (!settled) {
          settled = true;
          reject(new Error(`the Python zygote exited during start (${signal ?? `exit status ${code}`})`));
        }
      });
    });
  }

  private onMessage(message: Message): void {
    switch (message.op) {
      case 'forked': {
        const proc = new ForkedProcess(message.pid);
        this.children.set(message.pid, proc);
        void proc.exited.then(() => this.children.delete(message.pid));
        this.settle(message.id)?.resolve(proc);
        return;
      }
      case 'fork-failed':
        this.settle(message.id)?.reject(new Error(`the zygote could not fork: ${message.error}`));
        return;
      case 'exit':
        this.children.get(message.pid)?.onExit({ code: message.code, signal: message.signal });
        return;
      default:
        return;
    }
  }

  private settle(id: string): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    return pending;
  }

  private onZygoteExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.channel = undefined;
    const wasReady = this.info !== undefined;
    this.info = undefined;
    for (const pending of this.pending.values()) pending.reject(new Error('the zygote exited'));
    this.pending.clear();
    // Its children live on, re-parented: nobody reports their exit now, so they are watched.
    for (const proc of this.children.values()) proc.orphan();
    this.children.clear();
    if (this.closed) return;
    this.failures = wasReady ? 0 : this.failures + 1;
    const delay = Math.min(30_000, 250 * 2 ** this.failures);
    this.options.log?.('warn', `python zygote exited (${signal ?? `exit status ${code}`}); restarting in ${delay} ms`);
    this.restartTimer = setTimeout(() => void this.start().catch(() => undefined), delay);
    this.restartTimer.unref();
  }

  private report(message: Extract<Message, { op: 'ready' }>): void {
    const failed = Object.entries(message.failed).map(([name, why]) => `${name} (${why})`);
    this.options.log?.('info', `python zygote ${message.pid} ready (Python ${message.python}; preloaded ${message.loaded.join(', ') || 'nothing'})`);
    if (failed.length > 0) this.options.log?.('warn', `python zygote could not preload: ${failed.join('; ')}`);
    if (message.threads > 1) this.options.log?.('warn', `python zygote runs ${message.threads} threads after preloading: it will not fork`);
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
