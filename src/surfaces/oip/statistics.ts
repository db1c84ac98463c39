import type { ModelStats } from '../../models/batching/model-stats.js';

/**
 * Triton's statistics extension, reduced to what modelfn counts: requests served
 * (inference_count), engine calls made (execution_count) and calls per batch size.
 */
export function statisticsResponse(stats: readonly ModelStats[]): { model_stats: unknown[] } {
  return {
    model_stats: stats.map((s) => ({
      name: s.name,
      version: s.version,
      last_inference: s.lastInference,
      inference_count: s.inferenceCount,
      execution_count: s.executionCount,
      batch_stats: [...s.batchSizes.entries()].sort((a, b) => a[0] - b[0]).map(([size, count]) => ({ batch_size: size, compute_infer: { count } })),
    })),
  };
}
