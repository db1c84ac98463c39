import { z } from 'zod';
import type { AccountContext } from '../../registry/arn.js';
import { ModelfnError } from '../../shared/errors.js';

/** SQS's rule: 1-80 letters, digits, hyphens and underscores. */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

export const queueNameSchema = z.string().regex(QUEUE_NAME_PATTERN, { message: 'must be 1-80 letters, digits, hyphens or underscores' });

/** Queues the platform uses itself (one per function for async events): never visible as user queues. */
export const ASYNC_QUEUE_PREFIX = '$async:';

export function asyncQueueName(functionName: string): string {
  return `${ASYNC_QUEUE_PREFIX}${functionName}`;
}

export function queueArn(account: AccountContext, name: string): string {
  return `arn:aws:sqs:${account.region}:${account.accountId}:${name}`;
}

const QUEUE_ARN = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80})$/;

export function isQueueArn(value: string): boolean {
  return QUEUE_ARN.test(value);
}

/** The queue name in an ARN of this platform's region and account; `field` names the parameter in errors. */
export function queueNameFromArn(arn: string, account: AccountContext, field: string): string {
  const m = QUEUE_ARN.exec(arn);
  if (!m) throw new ModelfnError('INVALID_PARAMETER', `${field}: ${JSON.stringify(arn)} is not a queue ARN (arn:aws:sqs:${account.region}:${account.accountId}:NAME)`);
  if (m[1] !== account.region || m[2] !== account.accountId) {
    throw new ModelfnError('INVALID_PARAMETER', `${field}: ${arn} is not in this platform's region ${account.region} and account ${account.accountId}`);
  }
  return m[3]!;
}
