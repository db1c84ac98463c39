import type { Logger } from 'pino';
import type { AccessKey } from '../auth/access-keys.js';
import type { NatsContext } from '../backends/nats/connection.js';
import { connectNats } from '../backends/nats/connection.js';
import { NatsKeyStore } from '../backends/nats/kv-key-store.js';
import { NatsRecordStore } from '../backends/nats/kv-record-store.js';
import { NatsRegistryStore } from '../backends/nats/kv-registry-store.js';
import { NatsScheduleClaims } from '../backends/nats/kv-schedule-claims.js';
import { NatsMessageQueue } from '../backends/nats/nats-message-queue.js';
import { NatsBlobStore } from '../backends/nats/object-blob-store.js';
import { NatsMeteringStream } from '../backends/nats/metering-stream.js';
import { NatsBatchChunks } from '../backends/nats/batch-chunks.js';
import type { EventsBackends } from '../events/events-module.js';
import { ClusterBatchJobs } from './cluster-batch-jobs.js';
import type { Registry } from '../registry/registry.js';
import type { Dispatcher } from '../scheduler/dispatcher.js';
import type { LocalCapacity } from './cluster-dispatcher.js';
import type { LogStore } from '../telemetry/logs/log-record.js';
import { ClusterDispatcher } from './cluster-dispatcher.js';
import { ClusterLogStore } from './cluster-log-store.js';
import { InvokeServer } from './invoke-server.js';
import { Membership } from './membership.js';
import { nodeIdOf } from './node-id.js';
import { ShareAdjuster } from './reserved-share.js';

export interface ClusterSettings {
  /** nats://host:port URLs of the NATS servers (any one is enough to join). */
  readonly servers: readonly string[];
  readonly replicas: number;
  /** Queue consumers' AckWait: how soon a dead node's async work is redelivered. */
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly dataDir: string;
  readonly version: string;
  readonly recordRetentionDays: number;
  readonly meteringRetentionDays: number;
  readonly maxQueueWaitMs: number;
  readonly initTimeoutMs: number;
}

/**
 * One node's membership of a cluster: the NATS connection, every cluster-backed store (registry,
 * blobs, queues, records, schedule claims, access keys), membership, and — once the local
 * scheduler exists — the dispatcher that forwards calls and the server that takes forwarded ones.
 * Wiring only; each part lives in its own file.
 */
export class ClusterNode {
  private dispatcherRef: ClusterDispatcher | undefined;
  private server: InvokeServer | undefined;
  private membershipRef: Membership | undefined;
  private readonly shares = new ShareAdjuster(() => this.membershipRef?.size ?? 1);
  private readonly closers: Array<() => Promise<void>> = [];

  private constructor(
    readonly id: string,
    readonly ctx: NatsContext,
    readonly registry: NatsRegistryStore,
    readonly blobs: NatsBlobStore,
    readonly queue: NatsMessageQueue,
    readonly records: NatsRecordStore,
    readonly claims: NatsScheduleClaims,
    /** Usage rows of every node (metering), applied by each node to its own store. */
    readonly metering: NatsMeteringStream,
    /** Batch-job chunks any node may run. */
    readonly batches: NatsBatchChunks,
    private readonly settings: ClusterSettings,
    private readonly log: Logger,
  ) {}

  static async connect(settings: ClusterSettings, log: Logger): Promise<ClusterNode> {
    const id = await nodeIdOf(settings.dataDir);
    const ctx = await connectNats({ servers: settings.servers, name: `modelfn-${id}`, replicas: settings.replicas });
    try {
      const [registry, blobs, queue, records, claims, metering, batches] = await Promise.all([
        NatsRegistryStore.open(ctx),
        NatsBlobStore.open(ctx),
        NatsMessageQueue.open(ctx, { nodeId: id, leaseWindowMs: settings.leaseMs }),
        NatsRecordStore.open(ctx, { ttlMs: (settings.recordRetentionDays + 1) * 86_400_000 }),
        NatsScheduleClaims.open(ctx),
        NatsMeteringStream.open(ctx, { nodeId: id, retentionDays: settings.meteringRetentionDays }),
        NatsBatchChunks.open(ctx, settings.leaseMs),
      ]);
      log.info({ node: id, servers: settings.servers, maxPayload: ctx.nc.info?.max_payload }, 'joined the NATS cluster');
      return new ClusterNode(id, ctx, registry, blobs, queue, records, claims, metering, batches, settings, log);
    } catch (err) {
      await ctx.nc.close().catch(() => undefined);
      throw err;
    }
  }

  /** Access keys shared by every node (keys given by environment are added as on one node). */
  openKeys(extra: readonly AccessKey[]): Promise<NatsKeyStore> {
    return NatsKeyStore.open(this.ctx, extra);
  }

  /** The event module's stores in cluster mode, and batch jobs whose chunks every node runs. */
  eventBackends(registry: Registry): EventsBackends {
    return {
      queue: this.queue,
      records: this.records,
      claims: this.claims,
      jobs: ({ dispatcher, clock, log }) =>
        new ClusterBatchJobs({ chunks: this.batches, registry, dispatcher, blobs: this.blobs, records: this.records, clock, log, leaseMs: this.settings.leaseMs }),
    };
  }

  /** Join: heartbeats, forwarding and serving forwarded calls, around the local scheduler. */
  async join(local: LocalCapacity, registry: Registry): Promise<Dispatcher> {
    const membership = await Membership.start(this.ctx, {
      self: { id: this.id, url: '', startedAt: Date.now(), version: this.settings.version },
      intervalMs: this.settings.heartbeatMs,
      deadAfterMs: this.settings.heartbeatMs * 3,
    });
    this.membershipRef = membership;
    membership.on('up', (n: { id: string }) => this.log.info({ node: n.id }, 'a node joined the cluster'));
    membership.on('down', (id: string) => this.log.warn({ node: id }, 'a node left the cluster'));
    this.dispatcherRef = new ClusterDispatcher({
      nc: this.ctx.nc,
      local,
      membership,
      shares: this.shares,
      acceptTimeoutMs: 1000,
      slackMs: this.settings.maxQueueWaitMs + this.settings.initTimeoutMs + 5000,
    });
    this.dispatcherRef.start();
    this.server = new InvokeServer(this.ctx.nc, this.id, registry, local, this.shares, this.log);
    this.server.start();
    return this.dispatcherRef;
  }

  get membership(): Membership | undefined {
    return this.membershipRef;
  }

  /** Forwarded calls this node accepted from others. */
  get servedForOthers(): number {
    return this.server?.served ?? 0;
  }

  get dispatcher(): ClusterDispatcher | undefined {
    return this.dispatcherRef;
  }

  /** Logs as queries see them: this node's, merged with every live node's (writes stay local). */
  logs(local: LogStore): LogStore {
    const logs = new ClusterLogStore(local, this.ctx.nc, this.id, () => (this.membershipRef?.live() ?? []).map((n) => n.id).filter((id) => id !== this.id));
    logs.start();
    this.closers.push(() => logs.close());
    return logs;
  }

  announce(url: string): void {
    this.membershipRef?.setUrl(url);
  }

  /** Stop taking forwarded calls and leave (before the local scheduler drains). */
  async leave(): Promise<void> {
    this.server?.stop();
    for (const close of this.closers.splice(0)) await close();
    await this.membershipRef?.stop();
  }

  /** After everything else stopped: release leases, close the stores and the connection. */
  async close(): Promise<void> {
    this.dispatcherRef?.stop();
    await this.queue.close();
    await this.registry.close();
    await this.ctx.nc.drain().catch(() => this.ctx.nc.close());
  }
}
