import type { MessageView } from '../../events/queues/queue-service.js';
import type { PlatformClient } from '../client.js';
import { printJson, table } from '../output.js';

/** `modelfn dlq FUNCTION [--redrive]`: read the function's dead-letter queue, or run its events again. */
export async function deadLettersCommand(client: PlatformClient, fn: string, opts: { redrive?: boolean; json?: boolean }): Promise<void> {
  const base = `/_modelfn/v1/functions/${encodeURIComponent(fn)}/dead-letters`;
  if (opts.redrive) {
    const { redriven } = await client.json<{ redriven: number }>('POST', `${base}/redrive`, {});
    process.stdout.write(`re-drove ${redriven} event${redriven === 1 ? '' : 's'} to ${fn}\n`);
    return;
  }
  const { queue, messages } = await client.json<{ queue: string; messages: MessageView[] }>('GET', base);
  if (opts.json) return printJson(messages);
  if (messages.length === 0) {
    process.stdout.write(`dead-letter queue ${queue} is empty\n`);
    return;
  }
  process.stdout.write(
    `${table(['REQUEST', 'ERROR', 'SENT', 'EVENT'], messages.map((m) => [m.attributes.RequestID ?? m.messageId, (m.attributes.ErrorMessage ?? '').slice(0, 60), m.sentAt, m.body.slice(0, 80)]))}\n`,
  );
}
