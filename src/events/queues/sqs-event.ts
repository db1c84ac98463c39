import type { AccountContext } from '../../registry/arn.js';
import type { ReceivedMessage } from '../queue.js';
import { md5 } from './queue-service.js';

/** One record of the event an SQS-triggered Lambda handler receives. */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: {
    readonly ApproximateReceiveCount: string;
    readonly SentTimestamp: string;
    readonly SenderId: string;
    readonly ApproximateFirstReceiveTimestamp: string;
  };
  readonly messageAttributes: Record<string, { stringValue: string; stringListValues: string[]; binaryListValues: string[]; dataType: 'String' }>;
  readonly md5OfBody: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

/** The `{"Records": [...]}` event for a batch, in SQS's shape, so SQS handlers run unchanged. */
export function sqsEvent(messages: readonly ReceivedMessage[], queueArn: string, account: AccountContext): { Records: SqsRecord[] } {
  return {
    Records: messages.map((m) => ({
      messageId: m.messageId,
      receiptHandle: m.receiptHandle,
      body: m.body.toString('utf8'),
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: account.accountId,
        ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
      },
      messageAttributes: Object.fromEntries(
        Object.entries(m.attributes).map(([k, v]) => [k, { stringValue: v, stringListValues: [], binaryListValues: [], dataType: 'String' as const }]),
      ),
      md5OfBody: md5(m.body),
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: account.region,
    })),
  };
}

/**
 * Which messages of a batch failed, from a handler's `{"batchItemFailures": [{"itemIdentifier"}]}`
 * (ReportBatchItemFailures). As on Lambda: no or an empty list means all succeeded; a malformed
 * response or an identifier that is not in the batch fails the whole batch (`'all'`).
 */
export function batchItemFailures(response: Buffer, messageIds: ReadonlySet<string>): ReadonlySet<string> | 'all' {
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.toString('utf8') || 'null');
  } catch {
    return 'all';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return new Set();
  const list = (parsed as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return 'all';
  const failed = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !messageIds.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}
