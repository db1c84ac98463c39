import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import type { InstanceExit, InstanceLogLine } from '../runtime.js';
import { scheduled } from './instance-scheduling.js';
import { LineSplitter } from './line-splitter.js';

export interface SpawnSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Extra pipes after stdin/stdout/stderr (fd 3, 4, ...). */
  readonly extraPipes?: number;
  readonly onLog: (line: InstanceLogLine) => void;
  /** How the spawned program's exit reads as the runtime's (a sandbox reports its runtime's signal as 128+N). */
  readonly mapExit?: (exit: InstanceExit) => InstanceExit;
  /**
   * Start it under the platform's instance scheduling class (default true; see
   * ./instance-scheduling.ts). false: exactly `command` (a caller that reads the kernel's own exec
   * error for the command needs it to be the first program run).
   */
  readonly scheduled?: boolean;
}

/**
 * A runtime process in its own process group (so a kill reaches whatever it forked), with its
 * stdout and stderr captured line by line and its exit observed exactly once.
 */
export class SupervisedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<InstanceExit>;
  private exitInfo: InstanceExit | undefined;

  constructor(spec: SpawnSpec) {
    const stdio: StdioOptions = ['ignore', 'pipe', 'pipe'];
    for (let i = 0; i < (spec.extraPipes ?? 0); i++) stdio.push('pipe');
    const run = spec.scheduled === false ? { command: spec.command, args: [...spec.args] } : scheduled(spec.command, spec.args);
    this.child = spawn(run.command, run.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio,
      detached: true,
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = new LineSplitter((text) => spec.onLog({ stream, text }));
      const source = this.child[stream];
      source?.on('data', (chunk: Buffer) => splitter.push(chunk));
      source?.on('end', () => splitter.flush());
    }
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exitInfo) return;
        this.exitInfo = spec.mapExit ? spec.mapExit({ code, signal }) : { code, signal };
        resolve(this.exitInfo);
      };
      this.child.once('exit', done);
      // spawn failures (ENOENT, EACCES) arrive as 'error' without an 'exit'.
      this.child.once('error', () => done(127, null));
    });
  }

  /** The runtime's process (the spawned one; a sandbox reports the process it runs inside). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** SIGKILL the whole process group; safe to call more than once. */
  kill(): void {
    if (this.exitInfo || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      try {
        this.child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}
