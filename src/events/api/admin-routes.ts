import { z } from 'zod';
import { sendJson } from '../../server/http/respond.js';
import { ModelfnError } from '../../shared/errors.js';
import { newRequestId } from '../../shared/ids.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { Registry } from '../../registry/registry.js';
import type { AsyncConfigStore } from '../async/async-config-store.js';
import type { AsyncInvoker } from '../async/async-invoker.js';
import { deadLetterConfigOf, parseDestination, storedConfigs } from '../async/event-invoke-config.js';
import type { QueueService } from '../queues/queue-service.js';
import type { InvocationRecordStore, RecordStatus } from '../records.js';
import { RECORD_STATUSES } from '../records.js';
import type { AdminRegistrar } from './http.js';
import { intParam, jsonBody, noContent } from './http.js';

export interface EventAdminDeps {
  readonly registry: Registry;
  readonly configs: AsyncConfigStore;
  readonly invoker: AsyncInvoker;
  readonly queues: QueueService;
  readonly records: InvocationRecordStore;
}

/** modelfn's async settings in one body (the CLI's `async-config`); null clears a setting. */
const asyncSettingsSchema = z
  .object({
    maximumRetryAttempts: z.number().int().min(0, { message: 'must be between 0 and 2' }).max(2, { message: 'must be between 0 and 2' }).optional(),
    maximumEventAgeInSeconds: z.number().int().min(60, { message: 'must be between 60 and 21600 seconds' }).max(21_600, { message: 'must be between 60 and 21600 seconds' }).optional(),
    onSuccess: z.string().max(350).nullable().optional(),
    onFailure: z.string().max(350).nullable().optional(),
    deadLetterQueue: z.string().max(350).nullable().optional(),
  })
  .strict();

/** The modelfn API for async settings, invocation records, dead letters and queues. */
export function registerEventAdminRoutes(admin: AdminRegistrar, d: EventAdminDeps): void {
  const mustExist = (name: string) => {
    if (!d.registry.get(name)) throw new ModelfnError('FUNCTION_NOT_FOUND', `function ${name} does not exist`);
  };

  admin.on('GET', '/_modelfn/v1/functions/:name/async-config', async (_req, res, p) => {
    mustExist(p.name!);
    sendJson(res, 200, asyncView(d, p.name!));
  });
  admin.on('PUT', '/_modelfn/v1/functions/:name/async-config', async (req, res, p) => {
    mustExist(p.name!);
    const s = parseOrThrow(asyncSettingsSchema, await jsonBody(req), 'async settings');
    const account = d.registry.account;
    // Names are accepted where ARNs are expected: a bare name is a function, "queue:NAME" a queue.
    const arn = (v: string | null | undefined, field: string) => (v ? toArn(v, account, field, d.queues) : v);
    const onSuccess = arn(s.onSuccess, 'onSuccess');
    const onFailure = arn(s.onFailure, 'onFailure');
    const dlq = s.deadLetterQueue ? d.queues.arnOf(d.queues.resolveName(s.deadLetterQueue, 'deadLetterQueue')) : s.deadLetterQueue;
    const hasConfig = storedConfigs(d.registry.get(p.name!)!).$LATEST !== undefined;
    const body: Record<string, unknown> = {};
    if (s.maximumRetryAttempts !== undefined) body.MaximumRetryAttempts = s.maximumRetryAttempts;
    if (s.maximumEventAgeInSeconds !== undefined) body.MaximumEventAgeInSeconds = s.maximumEventAgeInSeconds;
    if (onSuccess !== undefined || onFailure !== undefined) {
      body.DestinationConfig = {
        ...(onSuccess !== undefined ? { OnSuccess: onSuccess === null ? {} : { Destination: onSuccess } } : {}),
        ...(onFailure !== undefined ? { OnFailure: onFailure === null ? {} : { Destination: onFailure } } : {}),
      };
    }
    if (Object.keys(body).length > 0 || !hasConfig) await d.configs.put(p.name!, undefined, body, hasConfig);
    if (dlq !== undefined) {
      if (dlq) await d.queues.get(d.queues.resolveName(dlq, 'deadLetterQueue'));
      await d.configs.setDeadLetter(p.name!, dlq);
    }
    sendJson(res, 200, asyncView(d, p.name!));
  });

  admin.on('GET', '/_modelfn/v1/functions/:name/invocations', async (_req, res, p, q) => {
    const status = q.get('status') ?? undefined;
    if (status !== undefined && !RECORD_STATUSES.includes(status as RecordStatus)) {
      throw new ModelfnError('INVALID_PARAMETER', `status must be one of ${RECORD_STATUSES.join(', ')}`);
    }
    const kind = q.get('kind') ?? undefined;
    if (kind !== undefined && kind !== 'event' && kind !== 'job') throw new ModelfnError('INVALID_PARAMETER', 'kind must be event or job');
    const before = q.get('before');
    const records = await d.records.list({
      functionName: p.name!,
      ...(status ? { status: status as RecordStatus } : {}),
      ...(kind ? { kind } : {}),
      ...(before ? { before: Number(before) } : {}),
      limit: intParam(q, 'limit', 50, 1, 1000),
    });
    sendJson(res, 200, { invocations: records });
  });
  admin.on('GET', '/_modelfn/v1/invocations/:id', async (_req, res, p) => {
    const record = await d.records.get(p.id!);
    // Another tenant's records do not exist for this caller.
    if (!record || !d.registry.get(record.functionName)) throw new ModelfnError('RESOURCE_NOT_FOUND', `no invocation record ${p.id}`);
    sendJson(res, 200, record);
  });

  admin.on('GET', '/_modelfn/v1/functions/:name/dead-letters', async (_req, res, p, q) => {
    const queue = dlqOf(d, p.name!);
    sendJson(res, 200, { queue, messages: await d.queues.peek(queue, intParam(q, 'limit', 100, 1, 1000)) });
  });
  admin.on('POST', '/_modelfn/v1/functions/:name/dead-letters/redrive', async (req, res, p) => {
    const queue = dlqOf(d, p.name!);
    const body = (await jsonBody(req)) as { max?: unknown };
    const max = typeof body.max === 'number' && Number.isInteger(body.max) && body.max > 0 ? body.max : 10_000;
    let redriven = 0;
    while (redriven < max) {
      const batch = await d.queues.queue.receive(queue, { maxMessages: Math.min(100, max - redriven), visibilityTimeoutMs: 60_000 });
      if (batch.length === 0) break;
      for (const m of batch) {
        await d.invoker.submit({ functionName: p.name!, payload: m.body, requestId: newRequestId(), source: `redrive:${m.attributes.RequestID ?? m.messageId}`, internal: true });
        await d.queues.queue.ack(queue, m.receiptHandle);
        redriven++;
      }
    }
    sendJson(res, 200, { redriven });
  });

  admin.on('GET', '/_modelfn/v1/queues', async (_req, res) => sendJson(res, 200, { queues: await d.queues.list() }));
  admin.on('PUT', '/_modelfn/v1/queues/:queue', async (req, res, p) => {
    const existed = (await d.queues.queue.getQueue(p.queue!)) !== undefined;
    sendJson(res, existed ? 200 : 201, await d.queues.put(p.queue!, await jsonBody(req)));
  });
  admin.on('GET', '/_modelfn/v1/queues/:queue', async (_req, res, p) => sendJson(res, 200, await d.queues.get(p.queue!)));
  admin.on('DELETE', '/_modelfn/v1/queues/:queue', async (_req, res, p) => {
    await d.queues.remove(p.queue!);
    noContent(res);
  });
  admin.on('POST', '/_modelfn/v1/queues/:queue/messages', async (req, res, p) => {
    const body = await jsonBody(req, 10 * 1024 * 1024 + 65_536);
    // One message may be sent as {"body": "..."}; a batch as {"messages": [...]}.
    const input = typeof body === 'object' && body !== null && 'body' in body ? { messages: [body] } : body;
    sendJson(res, 200, { messages: await d.queues.send(p.queue!, input) });
  });
  admin.on('POST', '/_modelfn/v1/queues/:queue/receive', async (req, res, p) => {
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    sendJson(res, 200, { messages: await d.queues.receive(p.queue!, await jsonBody(req), controller.signal) });
  });
  admin.on('GET', '/_modelfn/v1/queues/:queue/messages', async (_req, res, p, q) => {
    sendJson(res, 200, { messages: await d.queues.peek(p.queue!, intParam(q, 'limit', 10, 1, 1000)) });
  });
  admin.on('DELETE', '/_modelfn/v1/queues/:queue/messages/:receipt', async (_req, res, p) => {
    if (!(await d.queues.deleteMessage(p.queue!, p.receipt!))) {
      throw new ModelfnError('INVALID_PARAMETER', 'receipt handle is not valid (unknown, already deleted, or the message was received again since)');
    }
    noContent(res);
  });
  admin.on('POST', '/_modelfn/v1/queues/:queue/purge', async (_req, res, p) => sendJson(res, 200, { purged: await d.queues.purge(p.queue!) }));
}

function asyncView(d: EventAdminDeps, name: string) {
  const doc = d.registry.get(name)!;
  const configs = d.configs.list(name);
  return { eventInvokeConfigs: configs, deadLetterConfig: deadLetterConfigOf(doc) ?? null };
}

function dlqOf(d: EventAdminDeps, name: string): string {
  const doc = d.registry.get(name);
  if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `function ${name} does not exist`);
  const target = deadLetterConfigOf(doc)?.TargetArn;
  if (!target) throw new ModelfnError('RESOURCE_NOT_FOUND', `function ${name} has no dead-letter queue; set one with \`modelfn async-config ${name} --dlq QUEUE\``);
  return d.queues.resolveName(target, 'DeadLetterConfig.TargetArn');
}

function toArn(value: string, account: Registry['account'], field: string, queues: QueueService): string {
  if (value.startsWith('arn:')) {
    parseDestination(value, account, field);
    return value;
  }
  if (value.startsWith('queue:')) return queues.arnOf(queues.resolveName(value.slice('queue:'.length), field));
  return `arn:aws:lambda:${account.region}:${account.accountId}:function:${value}`;
}
