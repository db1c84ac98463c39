import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BlobStore } from '../artifacts/blob-store.js';
import { EventsDatabase } from '../backends/sqlite/events-database.js';
import { SqliteMessageQueue } from '../backends/sqlite/sqlite-message-queue.js';
import { SqliteRecordStore } from '../backends/sqlite/sqlite-record-store.js';
import { SqliteScheduleClaims } from '../backends/sqlite/sqlite-schedule-claims.js';
import type { Registry } from '../registry/registry.js';
import type { Dispatcher } from '../scheduler/dispatcher.js';
import type { Clock } from '../shared/clock.js';
import type { MessageQueue } from './queue.js';
import type { InvocationRecordStore } from './records.js';
import type { ScheduleClaims } from './schedules/schedule-claims.js';
import { registerEventAdminRoutes } from './api/admin-routes.js';
import { registerEventInvokeConfigOperations } from './api/event-invoke-config-operations.js';
import { deadLetterMember } from './api/dead-letter-member.js';
import type { AdminRegistrar, LambdaOperationRegistrar } from './api/http.js';
import { AsyncConfigStore } from './async/async-config-store.js';
import { AsyncInvoker } from './async/async-invoker.js';
import { Destinations } from './async/destinations.js';
import { attachEventIntake } from './async/event-intake.js';
import { ASYNC_QUEUE_PREFIX } from './queues/queue-names.js';
import { QueueService } from './queues/queue-service.js';
import { registerScheduleRoutes } from './api/schedule-routes.js';
import { registerEventSourceMappingOperations } from './api/event-source-mapping-operations.js';
import { MappingStore } from './queues/event-source-mappings.js';
import { MappingPollers } from './queues/mapping-poller.js';
import { registerBatchJobRoutes } from './api/batch-job-routes.js';
import { BatchJobs } from './batch/batch-jobs.js';
import { ScheduleRunner } from './schedules/schedule-runner.js';
import { ScheduleStore } from './schedules/schedule-store.js';

/** The platform settings the event module reads (a subset of PlatformConfig). */
export interface EventsSettings {
  readonly asyncRetryBaseMs: number;
  readonly asyncConcurrency: number;
  readonly maxAsyncPayloadBytes: number;
  readonly eventsSync: 'full' | 'normal';
  readonly eventsGroupCommit: boolean;
  readonly recordRetentionDays: number;
  readonly scheduleSecondRates: boolean;
  readonly maxQueueWaitMs: number;
}

export interface EventsModuleOptions {
  readonly settings: EventsSettings;
  readonly dataDir: string;
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly blobs: BlobStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** Cluster mode: stores shared by every node (JetStream); unset: events.db in the data directory. */
  readonly backends?: EventsBackends;
}

export interface EventsBackends {
  readonly queue: MessageQueue;
  readonly records: InvocationRecordStore;
  readonly claims: ScheduleClaims;
  /** Batch jobs whose chunks any node may run (unset: BatchJobs, on the node that accepted the job). */
  readonly jobs?: (deps: { dispatcher: Dispatcher; clock: Clock; log: Logger }) => BatchJobRunner;
}

/** What the module needs of a batch-job runner. */
export type BatchJobRunner = Pick<BatchJobs, 'submit' | 'resume' | 'stop'>;

/**
 * Wiring of the event-driven features over the embedded backend (events.db in the data
 * directory): async invocations with retries, dead letters and destinations, queues, event source
 * mappings, schedules, batch jobs and invocation records. It holds no logic of its own.
 */
export class EventsModule {
  /** Event sources (schedules, queue pollers, batch jobs): stopped first. */
  private readonly sources: Array<() => Promise<unknown> | unknown> = [];
  /** Storage: closed last. */
  private readonly closers: Array<() => Promise<unknown> | unknown> = [];

  private constructor(
    readonly queues: QueueService,
    readonly invoker: AsyncInvoker,
    readonly configs: AsyncConfigStore,
    readonly records: InvocationRecordStore,
    readonly claims: ScheduleClaims,
    readonly schedules: ScheduleRunner,
    readonly jobs: BatchJobRunner,
    private readonly options: EventsModuleOptions,
  ) {}

  static async start(options: EventsModuleOptions): Promise<EventsModule> {
    const { settings, registry, clock, log } = options;
    let database: EventsDatabase | undefined;
    let queue: MessageQueue;
    let records: InvocationRecordStore;
    let claims: ScheduleClaims;
    if (options.backends) {
      ({ queue, records, claims } = options.backends);
    } else {
      database = new EventsDatabase(join(options.dataDir, 'events.db'), { sync: settings.eventsSync, groupCommit: settings.eventsGroupCommit });
      const sqliteQueue = new SqliteMessageQueue(database, clock);
      // This process holds the data-directory lock: no one else is working on a leased event.
      const released = await sqliteQueue.releaseLeases(ASYNC_QUEUE_PREFIX);
      if (released > 0) log.info({ released }, 'async events in flight at the last stop will run again');
      queue = sqliteQueue;
      records = new SqliteRecordStore(database, clock);
      claims = new SqliteScheduleClaims(database);
    }
    const queues = new QueueService(queue, registry.account);
    // Destinations submit to the invoker that uses them.
    const late: { invoker?: AsyncInvoker } = {};
    const destinations = new Destinations({ account: registry.account, queue, clock, log, submit: (request) => late.invoker!.submit(request) });
    const invoker = new AsyncInvoker({
      registry,
      dispatcher: options.dispatcher,
      queue,
      records,
      destinations,
      clock,
      log,
      retryBaseMs: settings.asyncRetryBaseMs,
      defaultConcurrency: settings.asyncConcurrency,
      maxQueueWaitMs: settings.maxQueueWaitMs,
      maxPayloadBytes: settings.maxAsyncPayloadBytes,
    });
    late.invoker = invoker;
    const schedules = new ScheduleRunner({ registry, claims, clock, log, submit: (request) => invoker.submit(request), allowSeconds: settings.scheduleSecondRates });
    const jobs = options.backends?.jobs
      ? options.backends.jobs({ dispatcher: options.dispatcher, clock, log })
      : new BatchJobs({ registry, dispatcher: options.dispatcher, blobs: options.blobs, records, clock, log, dir: join(options.dataDir, 'jobs') });
    const module = new EventsModule(queues, invoker, new AsyncConfigStore(registry, clock), records, claims, schedules, jobs, options);
    module.closers.push(() => database?.close());
    module.closers.push(() => queue.close());
    await invoker.start();
    attachEventIntake(registry, invoker);
    schedules.start();
    module.sources.push(() => schedules.stop());
    const pollers = new MappingPollers({ registry, queue, dispatcher: options.dispatcher, clock, log, defaultConcurrency: settings.asyncConcurrency });
    pollers.start();
    module.sources.push(() => pollers.stop());
    await jobs.resume();
    module.sources.push(() => jobs.stop());
    module.closers.push(() => attachEventIntake(registry, undefined));
    const housekeeping = setInterval(() => {
      const now = clock.now();
      void queue.sweep(now).catch((err: unknown) => log.warn({ err }, 'queue retention sweep failed'));
      void records.prune(now - settings.recordRetentionDays * 86_400_000).catch((err: unknown) => log.warn({ err }, 'record pruning failed'));
    }, 60_000);
    housekeeping.unref();
    module.closers.push(() => clearInterval(housekeeping));
    return module;
  }

  /** Register the event module's operations on the Lambda API and the modelfn API. */
  mount(admin: AdminRegistrar, lambdaApi: LambdaOperationRegistrar): void {
    registerEventInvokeConfigOperations(lambdaApi, this.configs);
    lambdaApi.addConfigurationMember(deadLetterMember(this.options.registry, this.queues));
    registerEventSourceMappingOperations(lambdaApi, this.options.registry, new MappingStore(this.options.registry, this.queues.queue, this.options.clock));
    const { registry, clock, settings } = this.options;
    registerEventAdminRoutes(admin, { registry, configs: this.configs, invoker: this.invoker, queues: this.queues, records: this.records });
    registerBatchJobRoutes(admin, { jobs: this.jobs, blobs: this.options.blobs, records: this.records, registry });
    registerScheduleRoutes(admin, { registry, store: new ScheduleStore(registry, clock, settings.scheduleSecondRates), runner: this.schedules, claims: this.claims });
  }

  /** Stop taking work, let running events finish (up to graceMs), close events.db. */
  async stop(graceMs: number): Promise<void> {
    const steps = [...this.sources.splice(0).reverse(), () => this.invoker.stop(graceMs), ...this.closers.splice(0).reverse()];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        this.options.log.warn({ err }, 'error while stopping the event module');
      }
    }
  }
}
