import type { ModelFormat } from '../../models/codecs/signature.js';
import type { HostProcess } from './host-process.js';

export type SpawnHost = (format: ModelFormat, memoryMb: number, warm: boolean) => HostProcess;

/**
 * Pre-started, warmed-up model hosts (no model, no user code), one per (format, memory size),
 * for the few most recently used kinds. A cold start takes one and only loads the model: the
 * Node.js boot, the engine's imports, JIT warm-up and ONNX Runtime's environment are already
 * paid. Spares are platform overhead, outside the instance memory budget.
 */
export class SparePool {
  private readonly spares = new Map<string, HostProcess>();
  private closed = false;

  constructor(
    private readonly spawn: SpawnHost,
    private readonly maxKinds: number,
  ) {}

  /** A live spare for this kind, if one is ready or booting. */
  take(format: ModelFormat, memoryMb: number): HostProcess | undefined {
    const key = keyOf(format, memoryMb);
    const spare = this.spares.get(key);
    this.spares.delete(key);
    if (spare && spare.alive) return spare;
    spare?.kill();
    return undefined;
  }

  /** Make sure a spare of this kind exists (evicting the least recently primed kind). */
  prime(format: ModelFormat, memoryMb: number): void {
    if (this.closed || this.maxKinds <= 0) return;
    const key = keyOf(format, memoryMb);
    const existing = this.spares.get(key);
    if (existing && existing.alive) {
      this.spares.delete(key);
      this.spares.set(key, existing);
      return;
    }
    const spare = this.spawn(format, memoryMb, true);
    this.spares.set(key, spare);
    void spare.exited.then(() => {
      if (this.spares.get(key) === spare) this.spares.delete(key);
    });
    while (this.spares.size > this.maxKinds) {
      const [oldest, host] = this.spares.entries().next().value as [string, HostProcess];
      this.spares.delete(oldest);
      host.kill();
    }
  }

  get size(): number {
    return this.spares.size;
  }

  /** Stop every spare and wait for them to exit. */
  async close(): Promise<void> {
    this.closed = true;
    const hosts = [...this.spares.values()];
    this.spares.clear();
    for (const host of hosts) host.kill();
    await Promise.all(hosts.map((h) => h.exited));
  }
}

function keyOf(format: ModelFormat, memoryMb: number): string {
  return `${format}:${memoryMb}`;
}
