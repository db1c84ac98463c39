import { ModelfnError } from '../../shared/errors.js';
import type { Registry } from '../../registry/registry.js';
import type { ConfigurationMember } from '../../surfaces/lambda-api/lambda-api-surface.js';
import { DEAD_LETTER_CONFIG, deadLetterConfigOf, deadLetterQueueOf } from '../async/event-invoke-config.js';
import type { DeadLetterConfig } from '../async/event-invoke-config.js';
import type { QueueService } from '../queues/queue-service.js';

/**
 * Lambda's DeadLetterConfig on CreateFunction, UpdateFunctionConfiguration and the function's
 * configuration: the same dead-letter queue `modelfn async-config --dlq` sets. TargetArn is a
 * queue's ARN (the queue must exist); an empty TargetArn removes it. SNS topics do not exist here.
 */
export function deadLetterMember(registry: Registry, queues: QueueService): ConfigurationMember {
  const field = 'DeadLetterConfig.TargetArn';
  return {
    member: 'DeadLetterConfig',
    async extensionsFor(value) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ModelfnError('INVALID_PARAMETER', 'DeadLetterConfig must be an object with a TargetArn');
      const target = (value as { TargetArn?: unknown }).TargetArn;
      if (target === undefined || target === '') return { [DEAD_LETTER_CONFIG]: undefined };
      if (typeof target !== 'string') throw new ModelfnError('INVALID_PARAMETER', `${field} must be a string`);
      const queue = deadLetterQueueOf(target, registry.account);
      try {
        await queues.get(queue);
      } catch (err) {
        if (err instanceof ModelfnError && err.code === 'RESOURCE_NOT_FOUND') throw new ModelfnError('INVALID_PARAMETER', `${field}: queue ${queue} does not exist; create it first (modelfn queue create ${queue})`);
        throw err;
      }
      return { [DEAD_LETTER_CONFIG]: { TargetArn: target } satisfies DeadLetterConfig };
    },
    view(doc) {
      const target = deadLetterConfigOf(doc)?.TargetArn;
      return target ? { TargetArn: target } : undefined;
    },
  };
}
