import type { Clock } from '../../shared/clock.js';
import { newRequestId } from '../../shared/ids.js';
import type { Dispatcher } from '../../scheduler/dispatcher.js';
import type { Invocation, InvocationOutcome, InvocationTarget } from '../../scheduler/invocation.js';
import { decodeResult, encodeEnvelope, encodeResult } from '../codecs/envelope.js';
import { MODEL_INPUT_ERROR_TYPE, ModelInputError } from '../codecs/errors.js';
import type { ModelCall } from '../codecs/payload.js';
import { decodeCall, encodeReply, httpError, invokeError } from '../codecs/payload.js';
import type { ModelSignature } from '../codecs/signature.js';
import type { Tensor } from '../codecs/tensor.js';
import type { ModelRequest } from '../codecs/validate.js';
import { Batcher } from './batcher.js';
import { ModelInvocationError } from './errors.js';
import { requestRows } from './merge.js';
import { ModelStatsBook } from './model-stats.js';

/** What the model surfaces pass along with a request (tracing, logs). */
export interface InferOptions {
  readonly requestId: string;
  readonly traceId?: string;
}

/**
 * Model functions between the surfaces and the scheduler (a Dispatcher decorator, as OpenFaaS
 * wraps its proxy): every request to a model function is decoded and validated here against the
 * signature stored at deploy time (a bad request is answered without starting an instance),
 * merged with concurrent ones when the function batches, and sent to the instance in the one
 * internal format. Other functions pass straight through.
 */
export class ModelDispatcher implements Dispatcher {
  readonly stats = new ModelStatsBook();
  private readonly batchers = new Map<string, { revisionId: string; batcher: Batcher }>();

  constructor(
    private readonly next: Dispatcher,
    private readonly clock: Clock,
  ) {}

  /** Routes and Lambda Invoke reach model functions here: any event in, the same event shape out. */
  invoke(target: InvocationTarget, invocation: Invocation): Promise<InvocationOutcome> {
    const signature = modelOf(target);
    // Not async on purpose: other functions get the next dispatcher's promise itself (an async
    // wrapper would add a promise and three microtask turns to every call). Dispatchers are
    // async functions, so the call cannot throw synchronously.
    if (!signature) return this.next.invoke(target, invocation);
    return this.invokeModel(target, invocation, signature);
  }

  private async invokeModel(target: InvocationTarget, invocation: Invocation, signature: ModelSignature): Promise<InvocationOutcome> {
    let event: unknown;
    try {
      event = JSON.parse(invocation.payload.toString('utf8'));
    } catch {
      return this.next.invoke(target, invocation);
    }
    let call: ModelCall;
    try {
      call = decodeCall(signature, event);
    } catch (err) {
      if (err instanceof ModelInputError) return rejected(target, invocation, err, isHttp(event));
      throw err;
    }
    const batching = target.config.batching !== undefined && signature.batchable;
    if (!batching) {
      // One call, one invocation: keep the caller's invocation (its logs, trace and metrics).
      const outcome = await this.next.invoke(target, { ...invocation, payload: encodeEnvelope(call.request) });
      this.count(target, 1, requestRows(call.request) ?? 0);
      return this.answer(target, call, outcome);
    }
    try {
      const outputs = await this.infer(target, call.request, { requestId: invocation.requestId, traceId: invocation.traceId });
      return synthetic(target, invocation, { ok: true, payload: Buffer.from(reply(target, call, outputs)) });
    } catch (err) {
      if (err instanceof ModelInputError) return rejected(target, invocation, err, call.http);
      if (err instanceof ModelInvocationError) return err.outcome;
      throw err;
    }
  }

  /**
   * The typed path (OIP and V1 surfaces): a validated request in, output tensors out. Throws
   * ModelInputError (400), ModelInvocationError (the function failed) or ModelfnError (throttled,
   * not found, shutting down).
   */
  async infer(target: InvocationTarget, request: ModelRequest, options: InferOptions): Promise<Tensor[]> {
    const signature = modelOf(target);
    if (!signature) throw new Error(`${target.config.name} is not a model function`);
    const limits = target.config.batching;
    if (!limits || !signature.batchable) return this.execute(target, request, options, 1);
    this.entry(target).inferenceCount++;
    return this.batcherFor(target, limits).submit(request);
  }

  /** Forget a removed function's batchers and counters. */
  forget(name: string): void {
    for (const key of this.batchers.keys()) if (key.startsWith(`${name}:`)) this.batchers.delete(key);
    this.stats.forget(name);
  }

  private batcherFor(target: InvocationTarget, limits: { maxBatchSize: number; maxDelayMs: number }): Batcher {
    const key = `${target.config.name}:${target.config.version}`;
    const known = this.batchers.get(key);
    if (known && known.revisionId === target.config.revisionId) return known.batcher;
    const batcher = new Batcher(limits, (request, members) => this.execute(target, request, { requestId: newRequestId() }, members, false), this.clock);
    this.batchers.set(key, { revisionId: target.config.revisionId, batcher });
    return batcher;
  }

  /** One engine call: one invocation of the function with the internal request. */
  private async execute(target: InvocationTarget, request: ModelRequest, options: InferOptions, members: number, countRequests = true): Promise<Tensor[]> {
    const outcome = await this.next.invoke(target, { requestId: options.requestId, payload: encodeEnvelope(request), traceId: options.traceId });
    this.count(target, countRequests ? members : 0, requestRows(request) ?? 0);
    if (outcome.result.ok) return decodeResult(outcome.result.payload);
    if (outcome.result.error.errorType === MODEL_INPUT_ERROR_TYPE) throw new ModelInputError(outcome.result.error.errorMessage);
    throw new ModelInvocationError(outcome as InvocationOutcome & { result: { ok: false } });
  }

  private answer(target: InvocationTarget, call: ModelCall, outcome: InvocationOutcome): InvocationOutcome {
    if (outcome.result.ok) {
      const outputs = decodeResult(outcome.result.payload);
      return { ...outcome, result: { ok: true, payload: Buffer.from(reply(target, call, outputs)) } };
    }
    if (outcome.result.error.errorType === MODEL_INPUT_ERROR_TYPE) {
      const err = new ModelInputError(outcome.result.error.errorMessage);
      return call.http ? { ...outcome, result: { ok: true, payload: Buffer.from(httpError(400, err.message)) } } : outcome;
    }
    return outcome;
  }

  /** One engine call of `rows` rows that served `requests` requests not counted on arrival. */
  private count(target: InvocationTarget, requests: number, rows: number): void {
    const s = this.entry(target);
    s.inferenceCount += requests;
    s.executionCount++;
    s.batchSizes.set(rows, (s.batchSizes.get(rows) ?? 0) + 1);
    s.lastInference = this.clock.now();
  }

  private entry(target: InvocationTarget) {
    return this.stats.entry(target.config.name, target.config.version);
  }
}

export function modelOf(target: InvocationTarget): ModelSignature | undefined {
  return target.config.runtime === 'model' ? target.config.model : undefined;
}

function reply(target: InvocationTarget, call: ModelCall, outputs: readonly Tensor[]): string {
  if (call.reply.kind === 'envelope') return encodeResult(outputs);
  return encodeReply(call, outputs, { modelName: target.config.name, modelVersion: target.config.version });
}

function isHttp(event: unknown): boolean {
  return typeof event === 'object' && event !== null && 'requestContext' in event;
}


/** An answer that did not need (or get) its own invocation: rejected input, or a batched call. */
function synthetic(target: InvocationTarget, invocation: Invocation, result: InvocationOutcome['result']): InvocationOutcome {
  return { requestId: invocation.requestId, executedVersion: target.config.version, result, durationMs: 0, billedDurationMs: 0, maxMemoryUsedMb: 0 };
}

function rejected(target: InvocationTarget, invocation: Invocation, err: ModelInputError, http: boolean): InvocationOutcome {
  if (http) return synthetic(target, invocation, { ok: true, payload: Buffer.from(httpError(400, err.message)) });
  return synthetic(target, invocation, { ok: false, error: invokeError(err) });
}
