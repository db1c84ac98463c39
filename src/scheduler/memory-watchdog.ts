import { readFile } from 'node:fs/promises';

export interface WatchedProcess {
  readonly pid: number | undefined;
  readonly memoryMb: number;
  /** Peak resident memory seen, MB (what REPORT prints as Max Memory Used). */
  peakRssMb: number;
  /** Called once when the process is over its memory size. */
  onOverLimit(rssMb: number): void;
}

/**
 * Polls the resident memory of every live instance process (off the request path) and stops the
 * ones over their memory size. The V8 heap limit catches most overruns first; this catches native
 * allocations (Buffers, numpy arrays). A cgroup limit, where available, is stricter still.
 */
export class MemoryWatchdog {
  private readonly watched = new Set<WatchedProcess>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

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
    let status: string;
    try {
      status = await readFile(`/proc/${process.pid}/status`, 'utf8');
    } catch {
      return;
    }
    const rssKb = field(status, 'VmRSS:');
    const hwmKb = field(status, 'VmHWM:');
    const rssMb = rssKb / 1024;
    process.peakRssMb = Math.max(process.peakRssMb, hwmKb / 1024, rssMb);
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
      await Promise.all([...this.watched].map((p) => this.sample(p)));
    } finally {
      this.polling = false;
    }
  }
}

function field(status: string, name: string): number {
  const at = status.indexOf(name);
  if (at < 0) return 0;
  return Number.parseInt(status.slice(at + name.length).trimStart(), 10) || 0;
}
