import type { Invocation, InvocationOutcome, InvocationTarget } from './invocation.js';

/**
 * Where surfaces send invocations. Embedded: the local scheduler. Cluster: local capacity first,
 * else another node over NATS request/reply.
 */
export interface Dispatcher {
  invoke(target: InvocationTarget, invocation: Invocation): Promise<InvocationOutcome>;
}
