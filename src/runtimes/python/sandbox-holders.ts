import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TASK_ROOT } from '../sandbox/bwrap-args.js';
import { DEFAULT_TMP_MB, processLimits } from '../sandbox/limits.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { SandboxPids, SandboxedProcess } from '../sandbox/sandboxed-process.js';
import { linkTree } from '../sandbox/task-dir.js';

/** A started sandbox holding a placeholder process, for a forked Python instance to join. */
export interface HeldSandbox {
  readonly holder: SandboxedProcess;
  readonly pids: SandboxPids;
}

interface ReadyHolder extends HeldSandbox {
  /** The host folder shown at /var/task, empty until a function takes the holder. */
  readonly taskDir: string;
}

/** Memory sizes kept warm (the most recently used), and ready holders per size. */
const SIZES = 2;
const PER_SIZE = 1;
/** A refill waits this long after a take, so the new bwrap does not compete with the cold start. */
const REFILL_DELAY_MS = 50;

/**
 * Pre-started sandboxes for forked Python instances: starting bwrap and its placeholder takes about
 * 50 ms, most of a zygote fork's cold start. A ready holder has an empty /var/task (its own cell
 * folder, like a Node.js stem cell's); a cold start fills it with hard links to the function's
 * code and hands it to the zygote's child. Kept for the default sandbox (network allowed, the
 * default /tmp size) of the most recently used memory sizes; other functions start their own.
 */
export class SandboxHolders {
  private readonly ready = new Map<number, ReadyHolder[]>();
  private readonly starting = new Map<number, number>();
  private readonly recent: number[] = [];
  private closed = false;

  constructor(
    private readonly sandbox: Sandbox,
    private readonly cellsDir: string,
  ) {}

  /** A ready holder of this memory size showing `codeDir` at /var/task, or undefined (then start one). */
  take(memoryMb: number, codeDir: string): HeldSandbox | undefined {
    this.use(memoryMb);
    const held = this.ready.get(memoryMb)?.shift();
    const timer = setTimeout(() => this.fill(memoryMb), REFILL_DELAY_MS);
    timer.unref();
    if (!held) return undefined;
    if (held.holder.hasExited || !linkTree(codeDir, held.taskDir)) {
      held.holder.kill();
      return undefined;
    }
    return held;
  }

  close(): void {
    this.closed = true;
    for (const list of this.ready.values()) for (const held of list) held.holder.kill();
    this.ready.clear();
  }

  /** Remember a size as recently used; holders of sizes that fell out are stopped. */
  private use(memoryMb: number): void {
    const at = this.recent.indexOf(memoryMb);
    if (at >= 0) this.recent.splice(at, 1);
    this.recent.unshift(memoryMb);
    for (const old of this.recent.splice(SIZES)) {
      for (const held of this.ready.get(old) ?? []) held.holder.kill();
      this.ready.delete(old);
    }
  }

  private fill(memoryMb: number): void {
    if (this.closed || !this.recent.includes(memoryMb)) return;
    const have = (this.ready.get(memoryMb)?.length ?? 0) + (this.starting.get(memoryMb) ?? 0);
    for (let i = have; i < PER_SIZE; i++) void this.startOne(memoryMb);
  }

  private async startOne(memoryMb: number): Promise<void> {
    this.starting.set(memoryMb, (this.starting.get(memoryMb) ?? 0) + 1);
    const cell = join(this.cellsDir, randomBytes(8).toString('hex'));
    const taskDir = join(cell, 'task');
    try {
      mkdirSync(taskDir, { recursive: true, mode: 0o755 });
      const holder = this.sandbox.spawn({
        taskDir,
        mounts: [],
        network: 'allow',
        tmpSizeMb: DEFAULT_TMP_MB,
        limits: processLimits('python', memoryMb, DEFAULT_TMP_MB),
        command: '/usr/bin/sleep',
        args: ['infinity'],
        cwd: TASK_ROOT,
        env: { PATH: '/usr/bin:/bin' },
        onLog: () => undefined,
      });
      void holder.exited.then(() => rmSync(cell, { recursive: true, force: true }));
      const pids = await holder.started;
      if (this.closed || !this.recent.includes(memoryMb)) return holder.kill();
      const list = this.ready.get(memoryMb) ?? [];
      list.push({ holder, pids, taskDir });
      this.ready.set(memoryMb, list);
    } catch {
      rmSync(cell, { recursive: true, force: true });
    } finally {
      this.starting.set(memoryMb, (this.starting.get(memoryMb) ?? 1) - 1);
    }
  }
}
