import { readFile } from 'node:fs/promises';
import type { MessageView, QueueView } from '../../events/queues/queue-service.js';
import type { PlatformClient } from '../client.js';
import { CliError } from '../client.js';
import { printJson, table } from '../output.js';

export interface QueueCreateOptions {
  visibilityTimeout?: string;
  retention?: string;
  delay?: string;
  dlq?: string;
  maxReceiveCount?: string;
  json?: boolean;
}

const base = (name: string) => `/_modelfn/v1/queues/${encodeURIComponent(name)}`;

/** `modelfn queue create NAME [--visibility-timeout S] [--dlq QUEUE --max-receive-count N]`. */
export async function queueCreateCommand(client: PlatformClient, name: string, opts: QueueCreateOptions): Promise<void> {
  const body: Record<string, unknown> = {};
  if (opts.visibilityTimeout !== undefined) body.visibilityTimeoutSec = Number(opts.visibilityTimeout);
  if (opts.retention !== undefined) body.retentionSec = Number(opts.retention);
  if (opts.delay !== undefined) body.delaySec = Number(opts.delay);
  if (opts.dlq !== undefined) body.deadLetterQueue = opts.dlq;
  if (opts.maxReceiveCount !== undefined) body.maxReceiveCount = Number(opts.maxReceiveCount);
  const view = await client.json<QueueView>('PUT', base(name), body);
  if (opts.json) return printJson(view);
  process.stdout.write(`queue ${view.name} (${view.arn}): visibility ${view.visibilityTimeoutSec} s${view.deadLetterQueue ? `, dead letters to ${view.deadLetterQueue} after ${view.maxReceiveCount} receives` : ''}\n`);
}

/** `modelfn queue send NAME BODY... [--file PATH]`: one message per argument (or per line of a file). */
export async function queueSendCommand(client: PlatformClient, name: string, bodies: string[], opts: { file?: string }): Promise<void> {
  const all = [...bodies];
  if (opts.file) all.push(...(await readFile(opts.file === '-' ? '/dev/stdin' : opts.file, 'utf8')).split('\n').filter((l) => l !== ''));
  if (all.length === 0) throw new CliError('nothing to send: give message bodies or --file');
  let sent = 0;
  for (let i = 0; i < all.length; i += 10) {
    const res = await client.json<{ messages: unknown[] }>('POST', `${base(name)}/messages`, { messages: all.slice(i, i + 10).map((body) => ({ body })) });
    sent += res.messages.length;
  }
  process.stdout.write(`sent ${sent} message${sent === 1 ? '' : 's'} to ${name}\n`);
}

/** `modelfn queue receive NAME [--max N] [--wait S] [--visibility-timeout S] [--delete]`. */
export async function queueReceiveCommand(client: PlatformClient, name: string, opts: { max?: string; wait?: string; visibilityTimeout?: string; delete?: boolean; json?: boolean }): Promise<void> {
  const body: Record<string, unknown> = { maxMessages: Number(opts.max ?? 1), waitTimeSec: Number(opts.wait ?? 0) };
  if (opts.visibilityTimeout !== undefined) body.visibilityTimeoutSec = Number(opts.visibilityTimeout);
  const { messages } = await client.json<{ messages: MessageView[] }>('POST', `${base(name)}/receive`, body);
  if (opts.delete) for (const m of messages) await client.json('DELETE', `${base(name)}/messages/${encodeURIComponent(m.receiptHandle!)}`);
  if (opts.json) return printJson(messages);
  for (const m of messages) process.stdout.write(`${m.body}\n`);
  if (messages.length === 0) process.stderr.write(`no message in ${name}\n`);
}

/** `modelfn queue ls`: queues with their depth. */
export async function queueListCommand(client: PlatformClient, opts: { json?: boolean }): Promise<void> {
  const { queues } = await client.json<{ queues: QueueView[] }>('GET', '/_modelfn/v1/queues');
  if (opts.json) return printJson(queues);
  if (queues.length === 0) {
    process.stdout.write('no queues; create one with `modelfn queue create NAME`\n');
    return;
  }
  process.stdout.write(
    `${table(
      ['NAME', 'VISIBLE', 'IN FLIGHT', 'DELAYED', 'VISIBILITY', 'DEAD LETTERS'],
      queues.map((q) => [q.name, q.messages, q.messagesInFlight, q.messagesDelayed, `${q.visibilityTimeoutSec} s`, q.deadLetterQueue ? `${q.deadLetterQueue} (${q.maxReceiveCount})` : '-']),
    )}\n`,
  );
}

export async function queueRemoveCommand(client: PlatformClient, name: string): Promise<void> {
  await client.json('DELETE', base(name));
  process.stdout.write(`removed queue ${name}\n`);
}

export async function queuePurgeCommand(client: PlatformClient, name: string): Promise<void> {
  const { purged } = await client.json<{ purged: number }>('POST', `${base(name)}/purge`);
  process.stdout.write(`purged ${purged} message${purged === 1 ? '' : 's'} from ${name}\n`);
}
