import type { FailureCondition } from './async-policy.js';

/** What Lambda sends to a destination (and modelfn to the next function of a pipeline). */
export interface DestinationRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'Success' | FailureCondition;
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload: unknown;
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: string;
    readonly functionError?: string;
  };
  readonly responsePayload: unknown;
}

export interface DestinationRecordInput {
  readonly now: number;
  readonly requestId: string;
  /** The invoked function's ARN with its version ($LATEST or a number), as Lambda reports it. */
  readonly functionArn: string;
  readonly condition: 'Success' | FailureCondition;
  readonly attempts: number;
  readonly requestPayload: Buffer;
  readonly executedVersion: string;
  /** The function's result, or its error object; undefined when it never ran (event too old, throttled). */
  readonly responsePayload?: Buffer;
  readonly functionError?: boolean;
}

/** Build the record in Lambda's format; payloads that are JSON are embedded as JSON, others as strings. */
export function destinationRecord(input: DestinationRecordInput): DestinationRecord {
  return {
    version: '1.0',
    timestamp: new Date(input.now).toISOString(),
    requestContext: {
      requestId: input.requestId,
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.attempts,
    },
    requestPayload: asJson(input.requestPayload),
    responseContext: {
      statusCode: 200,
      executedVersion: input.executedVersion,
      ...(input.functionError ? { functionError: 'Unhandled' } : {}),
    },
    responsePayload: input.responsePayload === undefined ? null : asJson(input.responsePayload),
  };
}

function asJson(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
