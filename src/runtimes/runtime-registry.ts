import { ModelfnError } from '../shared/errors.js';
import type { Runtime } from './runtime.js';

/** Runtime identifiers ('nodejs20.x', 'python3.12', 'provided.al2023', ...) to their Runtime. */
export class RuntimeRegistry {
  private readonly byIdentifier = new Map<string, Runtime>();

  register(runtime: Runtime): this {
    for (const id of runtime.identifiers) this.byIdentifier.set(id, runtime);
    return this;
  }

  get(identifier: string): Runtime {
    const runtime = this.byIdentifier.get(identifier);
    if (!runtime) {
      throw new ModelfnError(
        'INVALID_PARAMETER',
        `runtime ${JSON.stringify(identifier)} is not supported; supported runtimes: ${this.identifiers().join(', ')}`,
      );
    }
    return runtime;
  }

  has(identifier: string): boolean {
    return this.byIdentifier.has(identifier);
  }

  identifiers(): string[] {
    return [...this.byIdentifier.keys()].sort();
  }
}
