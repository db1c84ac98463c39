/** The platform-wide memory budget: the sum of the memory sizes of live instances stays under it. */
export class MemoryBudget {
  private used = 0;

  constructor(readonly totalMb: number) {}

  get usedMb(): number {
    return this.used;
  }

  get freeMb(): number {
    return this.totalMb - this.used;
  }

  tryReserve(mb: number): boolean {
    if (this.used + mb > this.totalMb) return false;
    this.used += mb;
    return true;
  }

  release(mb: number): void {
    this.used = Math.max(0, this.used - mb);
  }
}
