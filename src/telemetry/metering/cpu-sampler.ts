import { readFile } from 'node:fs/promises';
import type { InstanceProcess } from '../../scheduler/scheduler.js';

/** Linux reports process CPU times in clock ticks of USER_HZ, which is 100 on every Linux ABI. */
const TICKS_PER_SECOND = 100;

/**
 * Reads the CPU time (user + system) of every live instance process from /proc/<pid>/stat on a
 * timer and reports what each used since the last read. The last interval of an instance that
 * stops between two reads is not seen (at most one interval: 5 s by default).
 */
export class CpuSampler {
  private readonly last = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly processes: () => readonly InstanceProcess[],
    private readonly report: (functionName: string, version: string, cpuMs: number) => void,
    intervalMs = 5000,
  ) {
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }

  async sample(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const live = this.processes();
      const seen = new Set<string>();
      await Promise.all(
        live.map(async (p) => {
          const ticks = await readCpuTicks(p.pid);
          if (ticks === undefined) return;
          seen.add(p.id);
          const before = this.last.get(p.id) ?? 0;
          this.last.set(p.id, ticks);
          const delta = ticks - before;
          if (delta > 0) this.report(p.functionName, p.version, (delta * 1000) / TICKS_PER_SECOND);
        }),
      );
      for (const id of this.last.keys()) if (!seen.has(id)) this.last.delete(id);
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** utime + stime of a process in clock ticks, or undefined when it is gone. */
export async function readCpuTicks(pid: number): Promise<number | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseCpuTicks(stat);
}

/** Fields 14 and 15 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
export function parseCpuTicks(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return utime + stime;
}
