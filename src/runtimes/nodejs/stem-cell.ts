import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceExit } from '../runtime.js';
import { DEFAULT_TMP_MB } from '../sandbox/limits.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { linkTree } from '../sandbox/task-dir.js';
import type { StemCell } from '../stem-cells/stem-cell-pool.js';
import { FRAME } from './bootstrap/frames.js';
import { NodeProcess } from './node-process.js';

/** Sandboxed stem cells: the sandbox, and the folder under which each cell gets its own (empty) task folder. */
export interface StemCellSandboxing {
  readonly sandbox: Sandbox;
  readonly cellsDir: string;
}

/**
 * A started, generic Node.js runtime process: the bootstrap is loaded and waits for a
 * `specialize` frame; it has no function, no handler and nothing of the platform's environment
 * (its environment is the bare minimum below). Its V8 heap cap is that of one memory size, so
 * stem cells are kept per memory size.
 */
export class NodeStemCell implements StemCell {
  readonly process: NodeProcess;
  readonly ready: Promise<void>;
  /**
   * Sandboxed: the host folder shown read-only at /var/task, empty until a function takes the cell
   * (then filled with that function's code, see fill()). The cell starts with the network and the
   * /tmp size of most functions (allowed, 512 MB): functions that differ take a new process.
   */
  private readonly cellDir: string | undefined;

  constructor(
    nodePath: string,
    readonly memoryMb: number,
    sandboxing?: StemCellSandboxing,
  ) {
    const env = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      HOME: '/nonexistent',
      MODELFN_STEM_CELL: '1',
      NODE_OPTIONS: '',
    };
    if (sandboxing) {
      this.cellDir = join(sandboxing.cellsDir, randomBytes(8).toString('hex'));
      mkdirSync(join(this.cellDir, 'task'), { recursive: true, mode: 0o755 });
    }
    this.process = new NodeProcess(
      nodePath,
      memoryMb,
      '/',
      env,
      sandboxing && this.cellDir ? { sandbox: sandboxing.sandbox, taskDir: join(this.cellDir, 'task'), network: 'allow', tmpSizeMb: DEFAULT_TMP_MB } : undefined,
    );
    if (this.cellDir) {
      const dir = this.cellDir;
      void this.process.proc.exited.then(() => rmSync(dir, { recursive: true, force: true }));
    }
    this.ready = new Promise<void>((resolve, reject) => {
      this.process.onFrame = (frame) => {
        if (frame.type === FRAME.stemReady) resolve();
        else this.kill(); // nothing else is expected before a function takes it
      };
      void this.process.proc.exited.then(() => reject(new Error('the stem cell exited')));
    });
    this.ready.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.process.proc.pid;
  }

  get alive(): boolean {
    return !this.process.proc.hasExited;
  }

  get exited(): Promise<InstanceExit> {
    return this.process.proc.exited;
  }

  kill(): void {
    this.process.proc.kill();
  }

  /** Whether the cell runs in its own sandbox (its code must be filled in before it specialises). */
  get sandboxed(): boolean {
    return this.cellDir !== undefined;
  }

  /** Sandboxed: show the function's code at the cell's /var/task; false when it cannot (then use a new process). */
  fill(codeDir: string): boolean {
    return this.cellDir === undefined || linkTree(codeDir, join(this.cellDir, 'task'));
  }
}

/**
 * Variables that only Node.js start-up (or the dynamic linker, OpenSSL, ICU) reads: a stem cell
 * started long ago with its own values cannot honour them, so a function that sets one gets a new
 * process instead (NODE_OPTIONS is ignored either way: instances run with an empty one).
 */
const START_TIME_ENV = /^(NODE_|UV_|LD_|MALLOC_|OPENSSL_|SSL_CERT_|LANG$|LANGUAGE$|LC_)/;

/** Why this function must not take a stem cell, or undefined when it may. */
export function stemCellBlocker(environment: Readonly<Record<string, string>>): string | undefined {
  const names = Object.keys(environment).filter((name) => START_TIME_ENV.test(name));
  return names.length > 0 ? `its environment sets ${names.join(', ')}, which only Node.js start-up reads` : undefined;
}
