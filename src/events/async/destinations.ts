import type { Logger } from 'pino';
import type { AccountContext } from '../../registry/arn.js';
import type { InvocationOutcome } from '../../scheduler/invocation.js';
import type { Clock } from '../../shared/clock.js';
import { newRequestId } from '../../shared/ids.js';
import type { MessageQueue } from '../queue.js';
import type { RecordError } from '../records.js';
import type { FailedStep, SubmitRequest } from './async-invoker.js';
import type { FailureCondition } from './async-policy.js';
import { destinationRecord } from './destination-record.js';
import type { EffectiveAsyncConfig } from './event-invoke-config.js';
import { parseDestination } from './event-invoke-config.js';

export interface DestinationsOptions {
  readonly account: AccountContext;
  readonly queue: MessageQueue;
  readonly clock: Clock;
  readonly log: Logger;
  /** Start an async invocation of a destination function. */
  readonly submit: (request: SubmitRequest) => Promise<void>;
}

/**
 * Where a finished event goes: the on-success destination gets Lambda's destination record; a
 * failed one goes to the function's dead-letter queue (the original event, with RequestID,
 * ErrorCode and ErrorMessage attributes as Lambda sets them) and to its on-failure destination.
 * Each write is durable before the event is acknowledged, so a crash in between repeats the
 * delivery (at least once) instead of losing it.
 */
export class Destinations {
  constructor(private readonly o: DestinationsOptions) {}

  async onSuccess(config: EffectiveAsyncConfig, step: FailedStep, outcome: InvocationOutcome): Promise<void> {
    if (!config.onSuccess) return;
    const record = this.record(step, 'Success', outcome);
    const problem = await this.deliver(config.onSuccess, record, step);
    if (problem) this.o.log.warn({ requestId: step.requestId, destination: config.onSuccess, problem }, 'on-success destination failed');
  }

  /** Returns what was done, for the invocation record. */
  async onFailure(
    config: EffectiveAsyncConfig,
    step: FailedStep,
    condition: FailureCondition,
    outcome: InvocationOutcome | undefined,
    error: RecordError | null,
  ): Promise<Record<string, unknown>> {
    const done: Record<string, unknown> = {};
    if (config.deadLetterTarget) {
      const attributes: Record<string, string> = {
        RequestID: step.requestId,
        ErrorCode: outcome ? '200' : error?.type === 'TooManyRequestsException' ? '429' : '500',
        ErrorMessage: (error?.message ?? condition).slice(0, 1024),
        FunctionArn: step.resolution.invokedFunctionArn,
      };
      const problem = await this.deliverQueue(config.deadLetterTarget, step.message.body, attributes, 'DeadLetterConfig.TargetArn');
      if (problem) done.deadLetterError = problem;
      else done.deadLetterQueue = config.deadLetterTarget;
    }
    if (config.onFailure) {
      const problem = await this.deliver(config.onFailure, this.record(step, condition, outcome), step);
      if (problem) done.failureDestinationError = problem;
      else done.failureDestination = config.onFailure;
    }
    return done;
  }

  private record(step: FailedStep, condition: 'Success' | FailureCondition, outcome: InvocationOutcome | undefined): Buffer {
    const response = outcome ? (outcome.result.ok ? outcome.result.payload : Buffer.from(JSON.stringify(errorBody(outcome)))) : undefined;
    const record = destinationRecord({
      now: this.o.clock.now(),
      requestId: step.requestId,
      functionArn: `${step.resolution.invokedFunctionArn.split(':').slice(0, 7).join(':')}:${outcome?.executedVersion ?? step.resolution.config.version}`,
      condition,
      attempts: step.attempts,
      requestPayload: step.message.body,
      executedVersion: outcome?.executedVersion ?? step.resolution.config.version,
      ...(response ? { responsePayload: response } : {}),
      functionError: outcome !== undefined && !outcome.result.ok,
    });
    return Buffer.from(JSON.stringify(record));
  }

  /** Deliver to a function or a queue; returns a problem description instead of throwing. */
  private async deliver(arn: string, payload: Buffer, step: FailedStep): Promise<string | undefined> {
    let target;
    try {
      target = parseDestination(arn, this.o.account, 'Destination');
    } catch (err) {
      return (err as Error).message;
    }
    if (target.kind === 'queue') return this.deliverQueue(arn, payload, {}, 'Destination');
    try {
      await this.o.submit({
        functionName: target.name,
        ...(target.qualifier ? { qualifier: target.qualifier } : {}),
        payload,
        requestId: newRequestId(),
        source: `destination:${step.requestId}`,
        internal: true,
      });
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  private async deliverQueue(arn: string, body: Buffer, attributes: Record<string, string>, field: string): Promise<string | undefined> {
    try {
      const target = parseDestination(arn, this.o.account, field);
      if (target.kind !== 'queue') return `${field} must be a queue ARN`;
      await this.o.queue.send(target.name, [{ body, attributes }]);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }
}

function errorBody(outcome: InvocationOutcome): Record<string, unknown> {
  if (outcome.result.ok) return {};
  const { errorType, errorMessage, stackTrace } = outcome.result.error;
  return { errorMessage, errorType, ...(stackTrace && stackTrace.length > 0 ? { stackTrace } : {}) };
}
