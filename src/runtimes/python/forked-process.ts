import { readFile } from 'node:fs/promises';
import type { InstanceExit } from '../runtime.js';
import type { ProcessHandle } from '../runtime-api/runtime-api-instance.js';

/** How often an orphan (its zygote died, so nobody reports its exit) is looked at. */
const ORPHAN_POLL_MS = 100;

/**
 * A Python instance forked by a zygote. It is the zygote's child, not the platform's: the zygote
 * reaps it and reports its exit status. It is a session leader, so a kill reaches its whole
 * process group by pid. If the zygote dies first, the process is re-parented and nobody reports
 * its exit any more: it is then watched through /proc (its start time guards against a reused
 * pid; a zombie counts as exited, since a container's init may not reap it).
 */
export class ForkedProcess implements ProcessHandle {
  readonly exited: Promise<InstanceExit>;
  private exitInfo: InstanceExit | undefined;
  private resolveExit: (exit: InstanceExit) => void = () => undefined;
  private startTime: string | undefined;
  private killed = false;
  private poller: NodeJS.Timeout | undefined;

  constructor(readonly pid: number) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    void readStat(pid).then((stat) => {
      if (stat && !this.exitInfo) this.startTime = stat.startTime;
    });
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  kill(): void {
    if (this.exitInfo) return;
    this.killed = true;
    for (const target of [-this.pid, this.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* not yet a group leader, or already gone */
      }
    }
  }

  /** The zygote reaped it. */
  onExit(exit: InstanceExit): void {
    if (this.exitInfo) return;
    this.exitInfo = exit;
    if (this.poller) clearInterval(this.poller);
    this.resolveExit(exit);
  }

  /** The zygote is gone: from now on, find out about the exit ourselves. */
  orphan(): void {
    if (this.exitInfo || this.poller) return;
    this.poller = setInterval(() => void this.poll(), ORPHAN_POLL_MS);
    this.poller.unref();
    void this.poll();
  }

  private async poll(): Promise<void> {
    const stat = await readStat(this.pid);
    const gone = !stat || stat.state === 'Z' || stat.state === 'X' || (this.startTime !== undefined && stat.startTime !== this.startTime);
    if (gone) this.onExit({ code: null, signal: this.killed ? 'SIGKILL' : null });
  }
}

async function readStat(pid: number): Promise<{ state: string; startTime: string } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "(comm)": state is field 3 of the line, starttime field 22.
    return { state: fields[0]!, startTime: fields[19]! };
  } catch {
    return undefined;
  }
}
