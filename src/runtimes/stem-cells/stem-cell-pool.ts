import type { InstanceExit } from '../runtime.js';
import { residentMb } from './stem-cells.js';
import type { StemCellKindStats, StemCellRuntimeStats, StemCells } from './stem-cells.js';

/** A started, generic process a function can take over (used once). */
export interface StemCell {
  readonly pid: number | undefined;
  readonly alive: boolean;
  readonly exited: Promise<InstanceExit>;
  /** Resolves when it has booted and waits for a function (optional: then it counts as ready at once). */
  readonly ready?: Promise<void>;
  kill(): void;
}

export interface StemCellPoolOptions<C extends StemCell> {
  /** The runtime's family, for the statistics. */
  readonly runtime: string;
  readonly hub: StemCells;
  /** Start a generic cell of a kind. */
  spawn(key: string): C;
  /** MB charged for a cell of this kind until its resident size is measured. */
  estimateMb(key: string): number;
  /** Cells kept ready per kind. */
  readonly perKind: number;
  /** Kinds kept (the least recently used kind goes first). */
  readonly maxKinds: number;
  /** A take refills after this delay, so the new process does not compete with the cold start (ms). */
  readonly refillDelayMs?: number;
}

interface Entry<C> {
  readonly cell: C;
  chargedMb: number;
  ready: boolean;
}

/**
 * Per kind (a memory size, a model format), a few started generic processes: a cold start takes
 * one and specialises it; the pool refills in the background, within the stem-cell memory budget.
 * Each cell is used once: a taken cell leaves the pool for good.
 */
export class StemCellPool<C extends StemCell> {
  private readonly kinds = new Map<string, Entry<C>[]>();
  private hits = 0;
  private misses = 0;
  private closed = false;

  constructor(private readonly o: StemCellPoolOptions<C>) {
    o.hub.register(() => this.stats());
  }

  get enabled(): boolean {
    return this.o.hub.enabled && this.o.perKind > 0 && this.o.maxKinds > 0 && !this.closed;
  }

  /** A live cell of this kind (booted, or still booting), or undefined; the kind is refilled later. */
  take(key: string): C | undefined {
    if (!this.enabled) return undefined;
    const list = this.kinds.get(key);
    let taken: C | undefined;
    while (list && list.length > 0 && !taken) {
      // The oldest first: the most likely to have finished booting.
      const entry = list.shift()!;
      this.o.hub.release(entry.chargedMb);
      if (entry.cell.alive) taken = entry.cell;
      else entry.cell.kill();
    }
    if (taken) this.hits++;
    else this.misses++;
    const timer = setTimeout(() => this.prime(key), this.o.refillDelayMs ?? 50);
    timer.unref();
    return taken;
  }

  /** Make sure this kind has its cells (and mark it the most recently used kind). */
  prime(key: string): void {
    if (!this.enabled) return;
    let list = this.kinds.get(key);
    if (list) this.kinds.delete(key);
    else list = [];
    this.kinds.set(key, list);
    while (this.kinds.size > this.o.maxKinds) {
      const [oldest, entries] = this.kinds.entries().next().value as [string, Entry<C>[]];
      this.kinds.delete(oldest);
      for (const e of entries) this.discard(e);
    }
    for (let i = list.length; i < this.o.perKind; i++) {
      const estimate = this.o.estimateMb(key);
      if (!this.o.hub.tryCharge(estimate)) return;
      const cell = this.o.spawn(key);
      const entry: Entry<C> = { cell, chargedMb: estimate, ready: false };
      list.push(entry);
      void (cell.ready ?? Promise.resolve()).then(
        async () => {
          entry.ready = true;
          const measured = await residentMb(cell.pid);
          if (measured !== undefined && list.includes(entry)) {
            this.o.hub.adjust(entry.chargedMb, measured);
            entry.chargedMb = measured;
          }
        },
        () => undefined,
      );
      void cell.exited.then(() => {
        const at = list.indexOf(entry);
        if (at >= 0) {
          list.splice(at, 1);
          this.o.hub.release(entry.chargedMb);
        }
      });
    }
  }

  /** Cells waiting now, over every kind. */
  get size(): number {
    let n = 0;
    for (const list of this.kinds.values()) n += list.length;
    return n;
  }

  stats(): StemCellRuntimeStats {
    const kinds: StemCellKindStats[] = [...this.kinds].map(([key, list]) => ({
      key,
      ready: list.filter((e) => e.ready).length,
      starting: list.filter((e) => !e.ready).length,
      memoryMb: Math.round(list.reduce((n, e) => n + e.chargedMb, 0)),
    }));
    return { runtime: this.o.runtime, hits: this.hits, misses: this.misses, kinds };
  }

  /** Stop every waiting cell and wait for them to exit. */
  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.kinds.values()].flat();
    this.kinds.clear();
    for (const e of entries) this.discard(e);
    await Promise.all(entries.map((e) => e.cell.exited));
  }

  private discard(entry: Entry<C>): void {
    this.o.hub.release(entry.chargedMb);
    entry.chargedMb = 0;
    entry.cell.kill();
  }
}
