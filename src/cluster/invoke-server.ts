import type { Logger } from 'pino';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { maxPayload } from '../backends/nats/connection.js';
import { NAMES } from '../backends/nats/names.js';
import type { Registry } from '../registry/registry.js';
import type { LocalCapacity } from './cluster-dispatcher.js';
import type { ShareAdjuster } from './reserved-share.js';
import type { ForwardReply, ForwardRequest } from './wire.js';
import { decodeFrame, encodeFrame, errorReply, outcomeReply } from './wire.js';

/**
 * Serves calls other nodes forward: a member of every function's queue group
 * (modelfn.invoke.<function>). A call this node can start at once is accepted and run on the
 * local scheduler with the sender's resolved target (cluster nodes trust each other's registry
 * view; a newer revision only ever moves a pool forward); otherwise it answers "busy" at once.
 */
export class InvokeServer {
  private readonly subs = new Map<string, Subscription>();
  private closing = false;
  private readonly onChange = () => this.reconcile();
  /** Forwarded calls running here now, and accepted in all. */
  running = 0;
  served = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly nodeId: string,
    private readonly registry: Registry,
    private readonly local: LocalCapacity,
    private readonly shares: ShareAdjuster,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.registry.on('change', this.onChange);
    this.reconcile();
  }

  /** Stop taking forwarded calls (those running finish and answer). */
  stop(): void {
    this.closing = true;
    this.registry.off('change', this.onChange);
    for (const sub of this.subs.values()) sub.unsubscribe();
    this.subs.clear();
  }

  private reconcile(): void {
    if (this.closing) return;
    const names = new Set(this.registry.list().map((d) => d.name));
    for (const [name, sub] of this.subs) {
      if (!names.has(name)) {
        sub.unsubscribe();
        this.subs.delete(name);
      }
    }
    for (const name of names) {
      if (this.subs.has(name)) continue;
      const subject = NAMES.invoke(name);
      this.subs.set(name, this.nc.subscribe(subject, { queue: subject, callback: (err, m) => !err && void this.serve(m) }));
    }
  }

  private async serve(m: Msg): Promise<void> {
    if (!m.reply) return;
    const answer = (header: ForwardReply, payload?: Buffer) => {
      const frame = encodeFrame(header, payload);
      if (frame.length > maxPayload(this.nc)) {
        return this.nc.publish(m.reply!, encodeFrame({ kind: 'error', node: this.nodeId, code: 'INTERNAL', message: `the result (${frame.length} bytes) is larger than the NATS max_payload (${maxPayload(this.nc)}); raise max_payload on the NATS servers` }));
      }
      this.nc.publish(m.reply!, frame);
    };
    let request: ForwardRequest;
    let payload: Buffer;
    try {
      ({ header: request, payload } = decodeFrame<ForwardRequest>(m.data));
    } catch (err) {
      this.log.warn({ err }, 'dropping a malformed forwarded call');
      return;
    }
    const target = this.shares.adjust(request.target);
    if (this.closing || !this.local.hasCapacity(target)) return answer({ kind: 'busy', node: this.nodeId });
    answer({ kind: 'accepted', node: this.nodeId });
    this.running++;
    this.served++;
    try {
      const outcome = await this.local.invoke(target, { ...request.invocation, payload });
      const reply = outcomeReply(this.nodeId, outcome);
      answer(reply.header, reply.payload);
    } catch (err) {
      answer(errorReply(this.nodeId, err));
    } finally {
      this.running--;
    }
  }
}
