import { readFile } from 'node:fs/promises';

/**
 * Stem cells: started, generic, not-yet-specialised runtime processes (a Node.js process with the
 * runtime loaded, the Python zygote that forks pre-imported interpreters, a model host with its
 * engine loaded) that a function takes over on a cold start. This file holds what every runtime's
 * stem cells share: one switch, one memory budget, and the figures the API shows.
 */

export interface StemCellSettings {
  /** Off: every cold start starts a new process (MODELFN_STEM_CELLS=off, --no-stem-cells). */
  readonly enabled: boolean;
  /** Memory all stem cells together may hold, in MB (outside the instances' memory budget). */
  readonly budgetMb: number;
}

/** One kind of stem cell (a memory size, a model format, an interpreter) of one runtime. */
export interface StemCellKindStats {
  readonly key: string;
  /** Started and generic, waiting for a function (or, for a zygote, ready to fork). */
  readonly ready: number;
  /** Still booting. */
  readonly starting: number;
  /** MB they hold (measured resident size once ready; an estimate before). */
  readonly memoryMb: number;
}

export interface StemCellRuntimeStats {
  readonly runtime: string;
  /** Cold starts served by a stem cell, and cold starts that started a new process. */
  readonly hits: number;
  readonly misses: number;
  readonly kinds: readonly StemCellKindStats[];
}

export interface StemCellStats {
  readonly enabled: boolean;
  readonly budgetMb: number;
  readonly usedMb: number;
  readonly runtimes: readonly StemCellRuntimeStats[];
}

/** The shared switch, budget and statistics of every runtime's stem cells. */
export class StemCells {
  readonly enabled: boolean;
  readonly budgetMb: number;
  private used = 0;
  private readonly sources: Array<() => StemCellRuntimeStats> = [];

  constructor(settings: StemCellSettings) {
    this.enabled = settings.enabled;
    this.budgetMb = settings.budgetMb;
  }

  static off(): StemCells {
    return new StemCells({ enabled: false, budgetMb: 0 });
  }

  get usedMb(): number {
    return this.used;
  }

  /** Take mb of the budget for a stem cell; false (nothing taken) when it would not fit. */
  tryCharge(mb: number): boolean {
    if (!this.enabled || this.used + mb > this.budgetMb) return false;
    this.used += mb;
    return true;
  }

  /** Change a stem cell's charge once its real size is known (may go over the budget a little). */
  adjust(fromMb: number, toMb: number): void {
    this.used = Math.max(0, this.used - fromMb + toMb);
  }

  release(mb: number): void {
    this.used = Math.max(0, this.used - mb);
  }

  /** A runtime reports its stem cells here. */
  register(stats: () => StemCellRuntimeStats): void {
    this.sources.push(stats);
  }

  stats(): StemCellStats {
    return { enabled: this.enabled, budgetMb: this.budgetMb, usedMb: Math.round(this.used), runtimes: this.sources.map((s) => s()) };
  }
}

/** Resident memory of a process in MB (VmRSS), or undefined when it cannot be read. */
export async function residentMb(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'latin1');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
