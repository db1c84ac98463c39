/**
 * Per model version: requests served and engine calls made (Triton's inference_count and
 * execution_count), and how many calls ran at each batch size. The gap between the two counts
 * is what dynamic batching saved.
 */
export interface ModelStats {
  readonly name: string;
  readonly version: string;
  inferenceCount: number;
  executionCount: number;
  lastInference: number;
  readonly batchSizes: Map<number, number>;
}

export class ModelStatsBook {
  private readonly stats = new Map<string, ModelStats>();

  entry(name: string, version: string): ModelStats {
    const key = `${name}:${version}`;
    let s = this.stats.get(key);
    if (!s) {
      s = { name, version, inferenceCount: 0, executionCount: 0, lastInference: 0, batchSizes: new Map() };
      this.stats.set(key, s);
    }
    return s;
  }

  forFunction(name: string, version?: string): ModelStats[] {
    return [...this.stats.values()].filter((s) => s.name === name && (version === undefined || s.version === version));
  }

  forget(name: string): void {
    for (const [key, s] of this.stats) if (s.name === name) this.stats.delete(key);
  }
}
