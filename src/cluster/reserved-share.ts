import type { InvocationTarget } from '../scheduler/invocation.js';
import type { ScalingSettings } from '../registry/types.js';

/**
 * Reserved concurrency across a cluster, approximately: each node admits at most its share,
 * ceil(limit / live nodes), so the cluster runs at most nodes * ceil(limit / nodes) calls of the
 * function at once — the limit itself when nodes divide it, never more than limit + nodes - 1.
 * A node at its share forwards to a node below it. Zero stays zero (the function is off).
 */
export function nodeShare(limit: number, liveNodes: number): number {
  return limit <= 0 ? 0 : Math.ceil(limit / Math.max(1, liveNodes));
}

/**
 * Rewrites targets to this node's share. The scheduler compares scaling settings by identity
 * (a new object retargets the pool), so one object is kept per (settings, node count).
 */
export class ShareAdjuster {
  private readonly cache = new WeakMap<ScalingSettings, { nodes: number; scaling: ScalingSettings }>();

  constructor(private readonly liveNodes: () => number) {}

  adjust(target: InvocationTarget): InvocationTarget {
    const { scaling } = target;
    if (scaling.reservedConcurrency === null) return target;
    const nodes = this.liveNodes();
    let cached = this.cache.get(scaling);
    if (!cached || cached.nodes !== nodes) {
      cached = { nodes, scaling: { ...scaling, reservedConcurrency: nodeShare(scaling.reservedConcurrency, nodes) } };
      this.cache.set(scaling, cached);
    }
    return { ...target, scaling: cached.scaling };
  }
}
