import type { Clock } from '../../shared/clock.js';
import { ModelInputError } from '../codecs/errors.js';
import type { Tensor } from '../codecs/tensor.js';
import type { ModelRequest } from '../codecs/validate.js';
import type { BatchLimits } from './batch-policy.js';
import { flushDecision, nextBatchCount, runsAlone } from './batch-policy.js';
import { ModelInvocationError } from './errors.js';
import { mergeRequests, mergeable, requestRows, splitOutputs } from './merge.js';

interface Waiting {
  readonly request: ModelRequest;
  readonly rows: number;
  readonly enqueuedAt: number;
  resolve(outputs: Tensor[]): void;
  reject(err: unknown): void;
}

/** Runs one engine call (an invocation of the model function). */
export type Execute = (request: ModelRequest, members: number) => Promise<Tensor[]>;

/**
 * The dynamic batcher of one model function version: requests wait (at most maxDelayMs) to be
 * merged into one engine call of at most maxBatchSize rows, then each gets its own rows back.
 * Requests were validated before they got here, so a bad one never joins a batch; if a merged
 * call still fails, its members are run one by one, so a request the model rejects fails alone.
 */
export class Batcher {
  private queue: Waiting[] = [];
  private queuedRows = 0;
  private timer: { readonly kind: 'timeout'; readonly handle: NodeJS.Timeout } | { readonly kind: 'immediate'; readonly handle: NodeJS.Immediate } | undefined;

  constructor(
    private readonly limits: BatchLimits,
    private readonly execute: Execute,
    private readonly clock: Clock,
  ) {}

  get waiting(): number {
    return this.queue.length;
  }

  submit(request: ModelRequest): Promise<Tensor[]> {
    const rows = requestRows(request);
    if (rows === undefined || rows === 0 || runsAlone(rows, this.limits)) return this.execute(request, 1);
    if (this.queue.length > 0 && !mergeable(this.queue[0]!.request, request)) this.flushAll();
    return new Promise<Tensor[]>((resolve, reject) => {
      this.queue.push({ request, rows, enqueuedAt: this.clock.now(), resolve, reject });
      this.queuedRows += rows;
      this.evaluate();
    });
  }

  /** Apply the policy: run what is due, then wait for the oldest request's deadline. */
  private evaluate(): void {
    for (;;) {
      const decision = flushDecision({ queuedRows: this.queuedRows, oldestEnqueuedAt: this.queue[0]?.enqueuedAt }, this.clock.now(), this.limits);
      if (decision.flush) {
        this.runNext();
        continue;
      }
      this.disarm();
      if (decision.waitMs === Number.POSITIVE_INFINITY) return;
      // 0 ms still lets requests that arrive in the same event-loop turn join.
      this.timer =
        decision.waitMs <= 0
          ? { kind: 'immediate', handle: setImmediate(() => this.onTimer()) }
          : { kind: 'timeout', handle: setTimeout(() => this.onTimer(), decision.waitMs) };
      return;
    }
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.queue.length === 0) return;
    // The deadline passed (or this was the 0 ms turn): whatever waits runs now.
    this.runNext();
    this.evaluate();
  }

  private flushAll(): void {
    while (this.queue.length > 0) this.runNext();
    this.disarm();
  }

  private disarm(): void {
    if (this.timer?.kind === 'timeout') clearTimeout(this.timer.handle);
    else if (this.timer?.kind === 'immediate') clearImmediate(this.timer.handle);
    this.timer = undefined;
  }

  private runNext(): void {
    const count = nextBatchCount(this.queue.map((w) => w.rows), this.limits.maxBatchSize);
    const members = this.queue.splice(0, count);
    for (const m of members) this.queuedRows -= m.rows;
    void this.run(members);
  }

  private async run(members: Waiting[]): Promise<void> {
    if (members.length === 1) {
      const only = members[0]!;
      await this.execute(only.request, 1).then(only.resolve, only.reject);
      return;
    }
    const requests = members.map((m) => m.request);
    let split: Tensor[][] | undefined;
    try {
      const outputs = await this.execute(mergeRequests(requests), members.length);
      split = splitOutputs(requests, members.map((m) => m.rows), outputs);
    } catch (err) {
      // A platform failure (throttle, shutdown) is every member's answer; a function failure is retried per member.
      if (!(err instanceof ModelInputError || err instanceof ModelInvocationError)) {
        for (const m of members) m.reject(err);
        return;
      }
    }
    if (split) {
      for (const [i, m] of members.entries()) m.resolve(split[i]!);
      return;
    }
    // The merged call failed (or its outputs do not split by row): run each member alone.
    await Promise.all(members.map((m) => this.execute(m.request, 1).then(m.resolve, m.reject)));
  }
}
