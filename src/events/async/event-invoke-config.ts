import { z } from 'zod';
import { own } from '../../shared/json.js';
import type { AccountContext } from '../../registry/arn.js';
import { parseFunctionReference } from '../../registry/arn.js';
import type { FunctionDocument } from '../../registry/types.js';
import { ModelfnError } from '../../shared/errors.js';
import { queueNameFromArn } from '../queues/queue-names.js';

/**
 * Per-function asynchronous invocation settings, as Lambda's FunctionEventInvokeConfig (per
 * qualifier) plus the function's dead-letter queue. Stored in the function document's
 * `extensions` so they replicate with the registry: `eventInvokeConfigs[qualifier]` and
 * `deadLetterConfig`.
 */

export const EVENT_INVOKE_CONFIGS = 'eventInvokeConfigs';
export const DEAD_LETTER_CONFIG = 'deadLetterConfig';

export const ASYNC_LIMITS = {
  maximumRetryAttempts: { min: 0, max: 2, default: 2 },
  maximumEventAgeSec: { min: 60, max: 21_600, default: 21_600 },
} as const;

/** What is stored per qualifier (AWS field names, so Get returns what Put was given). */
export interface StoredEventInvokeConfig {
  readonly MaximumRetryAttempts?: number;
  readonly MaximumEventAgeInSeconds?: number;
  readonly DestinationConfig?: {
    readonly OnSuccess?: { readonly Destination?: string };
    readonly OnFailure?: { readonly Destination?: string };
  };
  /** Epoch seconds, as the Lambda API returns it. */
  readonly LastModified: number;
}

export interface DeadLetterConfig {
  readonly TargetArn?: string;
}

/** The settings one event is processed with (defaults applied). */
export interface EffectiveAsyncConfig {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeMs: number;
  readonly onSuccess?: string;
  readonly onFailure?: string;
  readonly deadLetterTarget?: string;
}

const destination = z.object({ Destination: z.string().max(350).optional() }).strict();

export const eventInvokeConfigSchema = z
  .object({
    MaximumRetryAttempts: z
      .number({ message: 'must be a number' })
      .int({ message: 'must be a whole number' })
      .min(0, { message: 'must be between 0 and 2' })
      .max(2, { message: 'must be between 0 and 2' })
      .optional(),
    MaximumEventAgeInSeconds: z
      .number({ message: 'must be a number' })
      .int({ message: 'must be a whole number' })
      .min(60, { message: 'must be between 60 and 21600 seconds' })
      .max(21_600, { message: 'must be between 60 and 21600 seconds' })
      .optional(),
    DestinationConfig: z.object({ OnSuccess: destination.optional(), OnFailure: destination.optional() }).strict().optional(),
  })
  .strict();

export type EventInvokeConfigInput = z.infer<typeof eventInvokeConfigSchema>;

/** The key a qualifier's settings are stored under ($LATEST for an unqualified function). */
export function qualifierKey(qualifier: string | undefined): string {
  return qualifier ?? '$LATEST';
}

export function storedConfigs(doc: FunctionDocument): Readonly<Record<string, StoredEventInvokeConfig>> {
  return (doc.extensions[EVENT_INVOKE_CONFIGS] as Record<string, StoredEventInvokeConfig> | undefined) ?? {};
}

export function deadLetterConfigOf(doc: FunctionDocument): DeadLetterConfig | undefined {
  return doc.extensions[DEAD_LETTER_CONFIG] as DeadLetterConfig | undefined;
}

/**
 * The settings for an event sent to `qualifier`: its own configuration, else the function's
 * unqualified one, else Lambda's defaults (2 retries, 6 hours).
 */
export function effectiveAsyncConfig(doc: FunctionDocument, qualifier: string | undefined): EffectiveAsyncConfig {
  const configs = storedConfigs(doc);
  const c = own(configs, qualifierKey(qualifier)) ?? configs.$LATEST;
  const dlq = deadLetterConfigOf(doc)?.TargetArn;
  return {
    maximumRetryAttempts: c?.MaximumRetryAttempts ?? ASYNC_LIMITS.maximumRetryAttempts.default,
    maximumEventAgeMs: (c?.MaximumEventAgeInSeconds ?? ASYNC_LIMITS.maximumEventAgeSec.default) * 1000,
    ...(c?.DestinationConfig?.OnSuccess?.Destination ? { onSuccess: c.DestinationConfig.OnSuccess.Destination } : {}),
    ...(c?.DestinationConfig?.OnFailure?.Destination ? { onFailure: c.DestinationConfig.OnFailure.Destination } : {}),
    ...(dlq ? { deadLetterTarget: dlq } : {}),
  };
}

export type DestinationTarget = { readonly kind: 'function'; readonly name: string; readonly qualifier?: string } | { readonly kind: 'queue'; readonly name: string };

/** A destination ARN: a function (name, partial or full ARN) or a queue ARN; `field` names the parameter in errors. */
export function parseDestination(arn: string, account: AccountContext, field: string): DestinationTarget {
  if (arn.startsWith('arn:') && arn.split(':')[2] === 'sqs') return { kind: 'queue', name: queueNameFromArn(arn, account, field) };
  if (!arn.startsWith('arn:') || arn.split(':')[2] !== 'lambda') {
    throw new ModelfnError('INVALID_PARAMETER', `${field}: ${JSON.stringify(arn)} must be a function ARN (arn:aws:lambda:${account.region}:${account.accountId}:function:NAME) or a queue ARN (arn:aws:sqs:${account.region}:${account.accountId}:NAME)`);
  }
  try {
    const ref = parseFunctionReference(arn, account);
    return { kind: 'function', name: ref.name, ...(ref.qualifier ? { qualifier: ref.qualifier } : {}) };
  } catch (err) {
    throw new ModelfnError('INVALID_PARAMETER', `${field}: ${(err as Error).message}`);
  }
}

/** The queue a dead-letter target names (DeadLetterConfig.TargetArn), or a 400: only queues take dead letters. */
export function deadLetterQueueOf(targetArn: string, account: AccountContext): string {
  const field = 'DeadLetterConfig.TargetArn';
  const target = parseDestination(targetArn, account, field);
  if (target.kind !== 'queue') {
    throw new ModelfnError('INVALID_PARAMETER', `${field}: must be a queue ARN (arn:aws:sqs:${account.region}:${account.accountId}:NAME); SNS topics and functions are not dead-letter targets`);
  }
  return target.name;
}

/** Check every ARN in a configuration (400 naming the field on the first bad one). */
export function validateDestinations(input: EventInvokeConfigInput, account: AccountContext): void {
  const s = input.DestinationConfig?.OnSuccess?.Destination;
  const f = input.DestinationConfig?.OnFailure?.Destination;
  if (s) parseDestination(s, account, 'DestinationConfig.OnSuccess.Destination');
  if (f) parseDestination(f, account, 'DestinationConfig.OnFailure.Destination');
}
