import { randomUUID } from 'node:crypto';
import { own } from '../../shared/json.js';
import { z } from 'zod';
import { functionArn, parseFunctionReference } from '../../registry/arn.js';
import type { Registry } from '../../registry/registry.js';
import type { FunctionDocument } from '../../registry/types.js';
import { hasQualifier } from '../../registry/versions.js';
import type { Clock } from '../../shared/clock.js';
import { ModelfnError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { MessageQueue } from '../queue.js';
import { queueNameFromArn } from './queue-names.js';

/** Event source mappings live in their function's document (`extensions.eventSourceMappings`). */
export const EVENT_SOURCE_MAPPINGS = 'eventSourceMappings';

export interface StoredMapping {
  readonly uuid: string;
  readonly eventSourceArn: string;
  readonly qualifier?: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  readonly functionResponseTypes: readonly string[];
  readonly enabled: boolean;
  readonly maximumConcurrency?: number;
  /** Epoch ms. */
  readonly lastModified: number;
}

const batchSize = z.number({ message: 'must be a number' }).int({ message: 'must be a whole number' }).min(1, { message: 'must be between 1 and 10000' }).max(10_000, { message: 'must be between 1 and 10000' });
const windowSec = z.number({ message: 'must be a number' }).int({ message: 'must be a whole number' }).min(0, { message: 'must be between 0 and 300' }).max(300, { message: 'must be between 0 and 300' });
const responseTypes = z.array(z.literal('ReportBatchItemFailures', { message: 'the only supported value is ReportBatchItemFailures' })).max(1);
const scaling = z.object({ MaximumConcurrency: z.number().int().min(2, { message: 'must be between 2 and 1000' }).max(1000, { message: 'must be between 2 and 1000' }).optional() }).strict();

export const createMappingSchema = z
  .object({
    FunctionName: z.string({ message: 'is required' }).min(1).max(140),
    EventSourceArn: z.string({ message: 'is required (the queue ARN, arn:aws:sqs:REGION:ACCOUNT:NAME)' }).min(1).max(1024),
    Enabled: z.boolean().optional(),
    BatchSize: batchSize.optional(),
    MaximumBatchingWindowInSeconds: windowSec.optional(),
    FunctionResponseTypes: responseTypes.optional(),
    ScalingConfig: scaling.optional(),
  })
  .strict();

export const updateMappingSchema = createMappingSchema.omit({ EventSourceArn: true }).partial().strict();

/** The mapping as the Lambda API returns it. */
export function mappingView(account: Registry['account'], functionName: string, m: StoredMapping, state?: string) {
  return {
    UUID: m.uuid,
    BatchSize: m.batchSize,
    MaximumBatchingWindowInSeconds: m.maximumBatchingWindowInSeconds,
    EventSourceArn: m.eventSourceArn,
    FunctionArn: functionArn(account, functionName, m.qualifier),
    LastModified: m.lastModified / 1000,
    State: state ?? (m.enabled ? 'Enabled' : 'Disabled'),
    StateTransitionReason: 'USER_INITIATED',
    FunctionResponseTypes: [...m.functionResponseTypes],
    ...(m.maximumConcurrency ? { ScalingConfig: { MaximumConcurrency: m.maximumConcurrency } } : {}),
  };
}

export function mappingsOf(doc: FunctionDocument): Readonly<Record<string, StoredMapping>> {
  return (doc.extensions[EVENT_SOURCE_MAPPINGS] as Record<string, StoredMapping> | undefined) ?? {};
}

/** Create / read / update / delete mappings in function documents; validation names the field. */
export class MappingStore {
  constructor(
    private readonly registry: Registry,
    private readonly queue: MessageQueue,
    private readonly clock: Clock,
  ) {}

  find(uuid: string): { functionName: string; mapping: StoredMapping } | undefined {
    for (const doc of this.registry.list()) {
      const m = own(mappingsOf(doc), uuid);
      if (m) return { functionName: doc.name, mapping: m };
    }
    return undefined;
  }

  mustFind(uuid: string): { functionName: string; mapping: StoredMapping } {
    const found = this.find(uuid);
    if (!found) throw new ModelfnError('RESOURCE_NOT_FOUND', `The resource you requested does not exist. (event source mapping ${uuid})`);
    return found;
  }

  all(): Array<{ functionName: string; mapping: StoredMapping }> {
    return this.registry.list().flatMap((doc) => Object.values(mappingsOf(doc)).map((mapping) => ({ functionName: doc.name, mapping })));
  }

  async create(body: unknown): Promise<{ functionName: string; mapping: StoredMapping }> {
    const input = parseOrThrow(createMappingSchema, body, 'event source mapping');
    const ref = this.functionRef(input.FunctionName);
    const queueName = queueNameFromArn(input.EventSourceArn, this.registry.account, 'EventSourceArn');
    if (!(await this.queue.getQueue(queueName))) {
      throw new ModelfnError('INVALID_PARAMETER', `EventSourceArn: queue ${queueName} does not exist (create it with \`modelfn queue create ${queueName}\`)`);
    }
    const size = input.BatchSize ?? 10;
    const window = input.MaximumBatchingWindowInSeconds ?? 0;
    checkWindow(size, window);
    const mapping: StoredMapping = {
      uuid: randomUUID(),
      eventSourceArn: input.EventSourceArn,
      ...(ref.qualifier ? { qualifier: ref.qualifier } : {}),
      batchSize: size,
      maximumBatchingWindowInSeconds: window,
      functionResponseTypes: input.FunctionResponseTypes ?? [],
      enabled: input.Enabled ?? true,
      ...(input.ScalingConfig?.MaximumConcurrency ? { maximumConcurrency: input.ScalingConfig.MaximumConcurrency } : {}),
      lastModified: this.clock.now(),
    };
    await this.registry.update(ref.name, (doc) => {
      if (!doc) throw this.notFound(ref.name);
      const existing = mappingsOf(doc);
      const clash = Object.values(existing).find((m) => m.eventSourceArn === mapping.eventSourceArn && (m.qualifier ?? '') === (mapping.qualifier ?? ''));
      if (clash) throw new ModelfnError('CONFLICT', `An event source mapping with SQS arn ("${mapping.eventSourceArn}") and function ("${ref.name}") already exists. Please update or delete the existing mapping with UUID ${clash.uuid}`);
      return { ...doc, extensions: { ...doc.extensions, [EVENT_SOURCE_MAPPINGS]: { ...existing, [mapping.uuid]: mapping } } };
    });
    return { functionName: ref.name, mapping };
  }

  async update(uuid: string, body: unknown): Promise<{ functionName: string; mapping: StoredMapping }> {
    const input = parseOrThrow(updateMappingSchema, body, 'event source mapping');
    const { functionName, mapping } = this.mustFind(uuid);
    let target = functionName;
    let qualifier = mapping.qualifier;
    if (input.FunctionName !== undefined) {
      const ref = this.functionRef(input.FunctionName);
      target = ref.name;
      qualifier = ref.qualifier;
    }
    const next: StoredMapping = {
      ...mapping,
      ...(qualifier ? { qualifier } : {}),
      batchSize: input.BatchSize ?? mapping.batchSize,
      maximumBatchingWindowInSeconds: input.MaximumBatchingWindowInSeconds ?? mapping.maximumBatchingWindowInSeconds,
      functionResponseTypes: input.FunctionResponseTypes ?? mapping.functionResponseTypes,
      enabled: input.Enabled ?? mapping.enabled,
      ...(input.ScalingConfig?.MaximumConcurrency ? { maximumConcurrency: input.ScalingConfig.MaximumConcurrency } : {}),
      lastModified: this.clock.now(),
    };
    if (!qualifier) delete (next as { qualifier?: string }).qualifier;
    checkWindow(next.batchSize, next.maximumBatchingWindowInSeconds);
    if (target !== functionName) await this.remove(uuid);
    await this.registry.update(target, (doc) => {
      if (!doc) throw this.notFound(target);
      return { ...doc, extensions: { ...doc.extensions, [EVENT_SOURCE_MAPPINGS]: { ...mappingsOf(doc), [uuid]: next } } };
    });
    return { functionName: target, mapping: next };
  }

  async remove(uuid: string): Promise<{ functionName: string; mapping: StoredMapping }> {
    const found = this.mustFind(uuid);
    await this.registry.update(found.functionName, (doc) => {
      if (!doc) throw this.notFound(found.functionName);
      const rest = { ...mappingsOf(doc) };
      delete rest[uuid];
      return { ...doc, extensions: { ...doc.extensions, [EVENT_SOURCE_MAPPINGS]: rest } };
    });
    return found;
  }

  private functionRef(name: string): { name: string; qualifier?: string } {
    const ref = parseFunctionReference(name, this.registry.account);
    const doc = this.registry.get(ref.name);
    if (!doc) throw this.notFound(ref.name);
    if (ref.qualifier && !hasQualifier(doc, ref.qualifier)) throw this.notFound(`${ref.name}:${ref.qualifier}`);
    return ref;
  }

  private notFound(name: string): ModelfnError {
    return new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(this.registry.account, name)}`);
  }
}

function checkWindow(size: number, window: number): void {
  if (size > 10 && window < 1) {
    throw new ModelfnError('INVALID_PARAMETER', 'MaximumBatchingWindowInSeconds: must be greater than 0 if BatchSize is greater than 10');
  }
}
