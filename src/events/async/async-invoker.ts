import type { Logger } from 'pino';
import { functionArn } from '../../registry/arn.js';
import type { Registry, Resolution } from '../../registry/registry.js';
import type { Dispatcher } from '../../scheduler/dispatcher.js';
import type { InvocationOutcome } from '../../scheduler/invocation.js';
import type { Clock } from '../../shared/clock.js';
import { ModelfnError, isModelfnError } from '../../shared/errors.js';
import type { MessageQueue, ReceivedMessage } from '../queue.js';
import { ASYNC_QUEUE_PREFIX, asyncQueueName } from '../queues/queue-names.js';
import type { InvocationRecord, InvocationRecordStore, RecordError } from '../records.js';
import type { AttemptResult, FailureCondition } from './async-policy.js';
import { asyncConcurrencyCap, decideAfterAttempt, isExpired } from './async-policy.js';
import type { Destinations } from './destinations.js';
import { effectiveAsyncConfig } from './event-invoke-config.js';

export interface AsyncInvokerOptions {
  readonly registry: Registry;
  /** The same dispatcher synchronous calls use: instance limits, scaling, logs and metering apply. */
  readonly dispatcher: Dispatcher;
  readonly queue: MessageQueue;
  readonly records: InvocationRecordStore;
  readonly destinations: Destinations;
  readonly clock: Clock;
  readonly log: Logger;
  /** Delay before the first retry after a function error (Lambda: about a minute). */
  readonly retryBaseMs: number;
  /** Async events in flight per function without reserved concurrency. */
  readonly defaultConcurrency: number;
  /** How long a synchronous call may wait for an instance (part of an event's lease). */
  readonly maxQueueWaitMs: number;
  /** Largest payload accepted for an async invocation (Lambda: 1 MB). */
  readonly maxPayloadBytes: number;
}

export interface SubmitRequest {
  readonly functionName: string;
  readonly qualifier?: string;
  readonly payload: Buffer;
  readonly requestId: string;
  /** Where it came from: invoke, route, destination, schedule, redrive. */
  readonly source: string;
  readonly traceId?: string;
  /** Platform-generated events (destination records) are not held to the client payload limit. */
  readonly internal?: boolean;
}

interface FunctionLoop {
  inFlight: number;
  pumping: boolean;
  again: boolean;
  pausedUntil: number;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
}

/**
 * Asynchronous invocations: `submit` stores the event durably (with its record) and returns; one
 * loop per function leases events from the function's internal queue, up to its async
 * concurrency, invokes them through the dispatcher and acknowledges each only once it is done —
 * succeeded (and its success destination written), or failed for good (and its dead-letter queue /
 * failure destination written). Anything not acknowledged comes back: after a retry delay, after
 * its lease, or after a restart.
 */
export class AsyncInvoker {
  private readonly loops = new Map<string, FunctionLoop>();
  private readonly known = new Set<string>();
  private stopping = false;
  private unwatch: (() => void) | undefined;
  private relist: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly o: AsyncInvokerOptions) {}

  /** Accept an event: 404 for an unknown function, 413 past the payload limit, resolved once durable. */
  async submit(request: SubmitRequest): Promise<void> {
    this.o.registry.resolve(request.functionName, request.qualifier);
    if (!request.internal && request.payload.length > this.o.maxPayloadBytes) {
      throw new ModelfnError('PAYLOAD_TOO_LARGE', `Request must be smaller than ${this.o.maxPayloadBytes} bytes for the asynchronous (Event) invocation; it is ${request.payload.length} bytes`, {
        details: { limit: this.o.maxPayloadBytes },
      });
    }
    const queue = await this.ensureQueue(request.functionName);
    const now = this.o.clock.now();
    const attributes: Record<string, string> = { rid: request.requestId, at: String(now), src: request.source };
    if (request.qualifier) attributes.q = request.qualifier;
    if (request.traceId) attributes.trace = request.traceId;
    const record: InvocationRecord = {
      id: request.requestId,
      kind: 'event',
      functionName: request.functionName,
      qualifier: request.qualifier ?? null,
      status: 'queued',
      attempts: 0,
      functionErrors: 0,
      acceptedAt: now,
      startedAt: null,
      finishedAt: null,
      nextAttemptAt: null,
      error: null,
      detail: { source: request.source, payloadBytes: request.payload.length },
      updatedAt: now,
    };
    // Issued together: with group commit both land in the same transaction.
    await Promise.all([this.o.queue.send(queue, [{ body: request.payload, attributes }]), this.o.records.create(record)]);
  }

  /** Pick up what was stored before (a restart) and follow new events. */
  async start(): Promise<void> {
    this.unwatch = this.o.queue.watch((queue) => {
      if (queue.startsWith(ASYNC_QUEUE_PREFIX)) this.pump(queue.slice(ASYNC_QUEUE_PREFIX.length));
    });
    await this.pumpStoredQueues();
  }

  /**
   * Run the events stored in every function's async queue. A listing that fails (in cluster mode,
   * a JetStream leader election that outlasts the read's budget) is tried again in the background:
   * the node starts and serves, and the stored events run once the store answers. Failing the
   * start instead made a node started during an election exit.
   */
  private async pumpStoredQueues(): Promise<void> {
    try {
      for (const info of await this.o.queue.listQueues(ASYNC_QUEUE_PREFIX)) {
        this.known.add(info.name);
        this.pump(info.name.slice(ASYNC_QUEUE_PREFIX.length));
      }
    } catch (err) {
      if (this.stopping) return;
      this.o.log.warn({ err }, 'could not list the async event queues; trying again in 2 s');
      this.relist = setTimeout(() => void this.pumpStoredQueues(), 2000);
    }
  }

  /** Stop taking events; wait for those running (up to graceMs). Unfinished ones stay stored. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.unwatch?.();
    clearTimeout(this.relist);
    for (const loop of this.loops.values()) clearTimeout(loop.timer);
    if (this.inFlight() === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Events being processed right now, per function. */
  inFlightOf(functionName: string): number {
    return this.loops.get(functionName)?.inFlight ?? 0;
  }

  private inFlight(): number {
    let n = 0;
    for (const loop of this.loops.values()) n += loop.inFlight;
    return n;
  }

  private async ensureQueue(functionName: string): Promise<string> {
    const name = asyncQueueName(functionName);
    if (!this.known.has(name)) {
      if (!(await this.o.queue.getQueue(name))) {
        // Visibility is set per receive from the function's timeout; no retention: age is the limit.
        await this.o.queue.putQueue(name, { visibilityTimeoutMs: 15 * 60_000, retentionMs: 0, delayMs: 0 });
      }
      this.known.add(name);
    }
    return name;
  }

  private loop(functionName: string): FunctionLoop {
    let loop = this.loops.get(functionName);
    if (!loop) {
      loop = { inFlight: 0, pumping: false, again: false, pausedUntil: 0, timer: undefined, timerAt: 0 };
      this.loops.set(functionName, loop);
    }
    return loop;
  }

  /** Lease as many events as the function may run now; re-run when one finishes or a timer fires. */
  private pump(functionName: string): void {
    if (this.stopping) return;
    const loop = this.loop(functionName);
    if (loop.pumping) {
      loop.again = true;
      return;
    }
    loop.pumping = true;
    void this.fill(functionName, loop)
      .catch((err: unknown) => {
        this.o.log.error({ err, functionName }, 'async event loop failed; retrying in 1 s');
        this.arm(functionName, loop, this.o.clock.now() + 1000);
      })
      .finally(() => {
        loop.pumping = false;
        if (loop.again && !this.stopping) this.pump(functionName);
      });
  }

  private async fill(functionName: string, loop: FunctionLoop): Promise<void> {
    const queue = asyncQueueName(functionName);
    do {
      loop.again = false;
      const doc = this.o.registry.get(functionName);
      const cap = asyncConcurrencyCap(doc?.scaling.reservedConcurrency ?? null, this.o.defaultConcurrency);
      const now = this.o.clock.now();
      if (loop.pausedUntil > now) {
        this.arm(functionName, loop, loop.pausedUntil);
        return;
      }
      const free = cap - loop.inFlight;
      if (free <= 0) return;
      const visibilityTimeoutMs = (doc?.latest.timeoutSec ?? 900) * 1000 + this.o.maxQueueWaitMs + 60_000;
      const messages = await this.o.queue.receive(queue, { maxMessages: free, visibilityTimeoutMs });
      for (const message of messages) {
        loop.inFlight++;
        void this.process(functionName, loop, message)
          .catch((err: unknown) => this.o.log.error({ err, functionName }, 'async event failed in the platform; it will be redelivered'))
          .finally(() => {
            loop.inFlight--;
            if (this.stopping && this.inFlight() === 0) this.idleWaiters.splice(0).forEach((w) => w());
            this.pump(functionName);
          });
      }
      if (messages.length < free) {
        const next = await this.o.queue.nextVisibleAt(queue);
        if (next === undefined) return;
        if (next > this.o.clock.now()) this.arm(functionName, loop, next);
        // Something became visible after the receive (a retry delay or a lease ran out): go again.
        else loop.again = true;
        return;
      }
    } while (loop.again && !this.stopping);
  }

  private arm(functionName: string, loop: FunctionLoop, at: number): void {
    if (this.stopping) return;
    if (loop.timer && loop.timerAt <= at) return;
    clearTimeout(loop.timer);
    loop.timerAt = at;
    // Re-check at least every minute (a lease that expires, a clock that jumps).
    const delay = Math.min(60_000, Math.max(0, at - this.o.clock.now()));
    loop.timer = setTimeout(() => {
      loop.timer = undefined;
      this.pump(functionName);
    }, delay);
    loop.timer.unref();
  }

  private async process(functionName: string, loop: FunctionLoop, message: ReceivedMessage): Promise<void> {
    const queue = asyncQueueName(functionName);
    const requestId = message.attributes.rid ?? message.messageId;
    const qualifier = message.attributes.q;
    const acceptedAt = Number(message.attributes.at ?? message.sentAt);
    const record = await this.o.records.get(requestId);
    const attempts = record?.attempts ?? 0;
    const functionErrors = record?.functionErrors ?? 0;
    const throttles = Number(record?.detail.throttles ?? 0);
    const detail = record?.detail ?? { source: message.attributes.src ?? 'unknown' };
    const doc = this.o.registry.get(functionName);
    const now = this.o.clock.now();
    let resolution: Resolution;
    try {
      if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `function ${functionName} was deleted`);
      resolution = this.o.registry.resolve(functionName, qualifier);
    } catch (err) {
      // Nothing to run it on and no configuration left to honour: record why and let it go.
      await this.o.records.update(requestId, { status: 'failed', finishedAt: now, error: errorOf(err) });
      await this.o.queue.ack(queue, message.receiptHandle);
      return;
    }
    const config = effectiveAsyncConfig(doc, qualifier);
    const base = { requestId, functionName, qualifier, message, attempts, detail, resolution };
    if (isExpired(acceptedAt, config.maximumEventAgeMs, now)) {
      await this.fail(base, 'EventAgeExceeded', undefined, record?.error ?? { type: 'EventAgeExceeded', message: 'the event is older than MaximumEventAgeInSeconds' });
      return;
    }
    void this.o.records.update(requestId, { status: 'running', attempts: attempts + 1, startedAt: record?.startedAt ?? now, nextAttemptAt: null });
    let outcome: InvocationOutcome | undefined;
    let result: AttemptResult;
    let error: RecordError | null = null;
    try {
      outcome = await this.o.dispatcher.invoke(resolution, { requestId, payload: message.body, ...(message.attributes.trace ? { traceId: message.attributes.trace } : {}) });
      result = outcome.result.ok ? 'success' : 'function-error';
      if (!outcome.result.ok) error = { type: outcome.result.error.errorType, message: outcome.result.error.errorMessage };
    } catch (err) {
      result = isModelfnError(err, 'TOO_MANY_REQUESTS') ? 'throttled' : 'system-error';
      error = errorOf(err);
    }
    const after = this.o.clock.now();
    const counted = {
      functionErrors: functionErrors + (result === 'function-error' ? 1 : 0),
      throttles: throttles + (result === 'throttled' || result === 'system-error' ? 1 : 0),
    };
    const decision = decideAfterAttempt({
      result,
      ...counted,
      maximumRetryAttempts: config.maximumRetryAttempts,
      maximumEventAgeMs: config.maximumEventAgeMs,
      acceptedAt,
      now: after,
      retryBaseMs: this.o.retryBaseMs,
    });
    const step = { ...base, attempts: attempts + 1, detail: { ...detail, throttles: counted.throttles } };
    if (decision.kind === 'done') {
      await this.o.destinations.onSuccess(config, step, outcome!);
      void this.o.records.update(requestId, {
        status: 'succeeded',
        finishedAt: after,
        functionErrors: counted.functionErrors,
        error: null,
        detail: { ...step.detail, executedVersion: outcome!.executedVersion, durationMs: Math.round(outcome!.durationMs * 100) / 100 },
      });
      await this.o.queue.ack(queue, message.receiptHandle);
    } else if (decision.kind === 'retry') {
      if (result !== 'function-error') loop.pausedUntil = Math.max(loop.pausedUntil, after + Math.min(decision.delayMs, 5000));
      void this.o.records.update(requestId, { status: 'retrying', functionErrors: counted.functionErrors, nextAttemptAt: after + decision.delayMs, error, detail: step.detail });
      await this.o.queue.nak(queue, message.receiptHandle, decision.delayMs);
    } else {
      void this.o.records.update(requestId, { functionErrors: counted.functionErrors });
      await this.fail(step, decision.condition, outcome, error);
    }
  }

  private async fail(step: FailedStep, condition: FailureCondition, outcome: InvocationOutcome | undefined, error: RecordError | null): Promise<void> {
    const config = effectiveAsyncConfig(this.o.registry.get(step.functionName)!, step.qualifier);
    const delivered = await this.o.destinations.onFailure(config, step, condition, outcome, error);
    await this.o.records.update(step.requestId, {
      status: 'failed',
      finishedAt: this.o.clock.now(),
      error,
      detail: { ...step.detail, condition, ...delivered },
    });
    await this.o.queue.ack(asyncQueueName(step.functionName), step.message.receiptHandle);
  }

  /** The invoked function's ARN with the version it ran, as destination records name it. */
  functionArnOf(functionName: string, qualifier: string | undefined): string {
    return `${functionArn(this.o.registry.account, functionName)}:${qualifier ?? '$LATEST'}`;
  }
}

export interface FailedStep {
  readonly requestId: string;
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly message: ReceivedMessage;
  readonly attempts: number;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resolution: Resolution;
}

function errorOf(err: unknown): RecordError {
  if (err instanceof ModelfnError) return { type: err.awsType, message: err.kind === 'system' ? 'internal error' : err.message };
  return { type: 'ServiceException', message: 'internal error' };
}
