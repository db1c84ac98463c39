import type { Logger } from 'pino';
import type { Registry } from '../../registry/registry.js';
import type { Dispatcher } from '../../scheduler/dispatcher.js';
import type { Clock } from '../../shared/clock.js';
import { newRequestId } from '../../shared/ids.js';
import { asyncConcurrencyCap } from '../async/async-policy.js';
import type { MessageQueue, ReceivedMessage } from '../queue.js';
import type { StoredMapping } from './event-source-mappings.js';
import { mappingsOf } from './event-source-mappings.js';
import { queueNameFromArn } from './queue-names.js';
import { waitForSend } from './queue-service.js';
import { batchItemFailures, sqsEvent } from './sqs-event.js';

export interface MappingPollersOptions {
  readonly registry: Registry;
  readonly queue: MessageQueue;
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  readonly log: Logger;
  readonly defaultConcurrency: number;
}

interface Running {
  readonly key: string;
  stopped: boolean;
  readonly workers: Array<Promise<void>>;
}

/**
 * Event source mappings at work: per enabled mapping, up to its concurrency of workers each
 * gather a batch (BatchSize, or what arrived within MaximumBatchingWindowInSeconds), invoke the
 * function with an SQS-shaped event through the dispatcher, and delete what succeeded. Failed
 * messages are left to come back after the queue's visibility timeout; the queue's redrive
 * policy moves one that keeps failing to its dead-letter queue, so it never blocks the others.
 */
export class MappingPollers {
  private readonly running = new Map<string, Running>();
  private stopped = false;
  private readonly onChange = () => this.reconcile();

  constructor(private readonly o: MappingPollersOptions) {}

  start(): void {
    this.o.registry.on('change', this.onChange);
    this.reconcile();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.registry.off('change', this.onChange);
    const all = [...this.running.values()];
    for (const r of all) r.stopped = true;
    await Promise.all(all.flatMap((r) => r.workers));
    this.running.clear();
  }

  private reconcile(): void {
    if (this.stopped) return;
    const wanted = new Map<string, { functionName: string; mapping: StoredMapping; key: string }>();
    for (const doc of this.o.registry.list()) {
      for (const mapping of Object.values(mappingsOf(doc))) {
        if (!mapping.enabled) continue;
        wanted.set(mapping.uuid, { functionName: doc.name, mapping, key: `${doc.name}|${JSON.stringify(mapping)}|${doc.scaling.reservedConcurrency}` });
      }
    }
    for (const [uuid, r] of this.running) {
      if (wanted.get(uuid)?.key !== r.key) {
        r.stopped = true;
        this.running.delete(uuid);
      }
    }
    for (const [uuid, w] of wanted) {
      if (this.running.has(uuid)) continue;
      const doc = this.o.registry.get(w.functionName)!;
      const workers = w.mapping.maximumConcurrency ?? asyncConcurrencyCap(doc.scaling.reservedConcurrency, this.o.defaultConcurrency);
      const run: Running = { key: w.key, stopped: false, workers: [] };
      for (let i = 0; i < workers; i++) run.workers.push(this.work(run, w.functionName, w.mapping));
      this.running.set(uuid, run);
    }
  }

  private async work(run: Running, functionName: string, mapping: StoredMapping): Promise<void> {
    const queueName = queueNameFromArn(mapping.eventSourceArn, this.o.registry.account, 'EventSourceArn');
    while (!run.stopped) {
      try {
        const batch = await this.gather(run, queueName, mapping);
        if (batch.length > 0) await this.deliver(functionName, mapping, queueName, batch);
      } catch (err) {
        this.o.log.warn({ err, functionName, mapping: mapping.uuid }, 'event source mapping poll failed; retrying in 1 s');
        await sleep(1000);
      }
    }
  }

  private async gather(run: Running, queueName: string, mapping: StoredMapping): Promise<ReceivedMessage[]> {
    const batch: ReceivedMessage[] = [];
    const windowMs = mapping.maximumBatchingWindowInSeconds * 1000;
    let deadline: number | undefined;
    while (!run.stopped && batch.length < mapping.batchSize) {
      if (!(await this.o.queue.getQueue(queueName))) {
        await sleep(1000);
        return batch;
      }
      batch.push(...(await this.o.queue.receive(queueName, { maxMessages: Math.min(100, mapping.batchSize - batch.length) })));
      if (batch.length >= mapping.batchSize) break;
      const now = this.o.clock.now();
      if (batch.length > 0) {
        // The window opens with the first message of the batch.
        deadline ??= now + windowMs;
        if (now >= deadline) break;
        await waitForSend(this.o.queue, queueName, Math.min(deadline - now, 1000));
      } else {
        const next = await this.o.queue.nextVisibleAt(queueName);
        await waitForSend(this.o.queue, queueName, next === undefined ? 1000 : Math.min(1000, Math.max(5, next - now)));
      }
    }
    return batch;
  }

  private async deliver(functionName: string, mapping: StoredMapping, queueName: string, batch: ReceivedMessage[]): Promise<void> {
    const resolution = this.o.registry.resolve(functionName, mapping.qualifier);
    const payload = Buffer.from(JSON.stringify(sqsEvent(batch, mapping.eventSourceArn, this.o.registry.account)));
    let failed: ReadonlySet<string> | 'all';
    try {
      const outcome = await this.o.dispatcher.invoke(resolution, { requestId: newRequestId(), payload });
      if (!outcome.result.ok) failed = 'all';
      else if (mapping.functionResponseTypes.includes('ReportBatchItemFailures')) failed = batchItemFailures(outcome.result.payload, new Set(batch.map((m) => m.messageId)));
      else failed = new Set();
    } catch (err) {
      // Throttled or the platform failed: the batch comes back after its visibility timeout.
      this.o.log.debug({ err, functionName }, 'event source mapping batch not delivered');
      await sleep(1000);
      return;
    }
    if (failed === 'all') return;
    await Promise.all(batch.filter((m) => !failed.has(m.messageId)).map((m) => this.o.queue.ack(queueName, m.receiptHandle)));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
