import { treeMemory } from '../runtimes/sandbox/process-tree.js';

export interface WatchedProcess {
  readonly pid: number | undefined;
  readonly memoryMb: number;
  /** Peak resident memory seen, MB (what REPORT prints as Max Memory Used). */
  peakRssMb: number;
  /** Called once when the process is over its memory size. */
  onOverLimit(rssMb: number): void;
  /** Running an invocation now; an idle process is sampled less often (see MemoryWatchdog). */
  readonly busy?: boolean;
}

/** An idle process is sampled every this many polls: its memory rarely moves, and reading every idle instance's /proc files 5 times a second cost an idle platform about 5 % of a core. */
const IDLE_EVERY = 10;

/**
 * Polls the resident memory of every live instance (off the request path) and stops the ones over
 * their memory size. An instance's memory is its whole process tree's (what its function started
 * counts too, and in a sandbox whatever is left inside it). The V8 heap limit catches most overruns
 * first; this catches native allocations (Buffers, numpy arrays) and child processes; the sandbox's
 * RLIMIT_DATA bounds what one process can take between two samples (src/runtimes/sandbox/limits.ts).
 */
export class MemoryWatchdog {
  private readonly watched = new Set<WatchedProcess>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private polls = 0;

  constructor(private readonly intervalMs = 200) {}

  add(process: WatchedProcess): void {
    this.watched.add(process);
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), this.intervalMs);
      this.timer.unref();
    }
  }

  remove(process: WatchedProcess): void {
    this.watched.delete(process);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Read one process's memory now (also used at the end of an invocation's first run). */
  async sample(process: WatchedProcess): Promise<void> {
    if (process.pid === undefined) return;
    // Synchronous /proc reads take microseconds; instances are sampled one event-loop turn apart.
    await new Promise((resolve) => setImmediate(resolve));
    const memory = treeMemory(process.pid);
    if (!memory) return;
    const rssMb = memory.rssKb / 1024;
    process.peakRssMb = Math.max(process.peakRssMb, memory.hwmKb / 1024, rssMb);
    if (rssMb > process.memoryMb) process.onOverLimit(rssMb);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const all = this.polls++ % IDLE_EVERY === 0;
      const due = all ? [...this.watched] : [...this.watched].filter((p) => p.busy !== false);
      await Promise.all(due.map((p) => this.sample(p)));
    } finally {
      this.polling = false;
    }
  }
}
