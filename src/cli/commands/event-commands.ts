import type { Command } from 'commander';
import type { PlatformClient } from '../client.js';
import { asyncConfigCommand } from './async-config.js';
import { batchCommand } from './batch.js';
import { deadLettersCommand } from './dead-letters.js';
import { invocationsCommand } from './invocations.js';
import { queueCreateCommand, queueListCommand, queuePurgeCommand, queueReceiveCommand, queueRemoveCommand, queueSendCommand } from './queue.js';
import { scheduleCommand } from './schedule.js';

/** The event-driven commands: async-config, invocations, dlq, queue, schedule, batch. */
export function registerEventCommands(program: Command, client: (cmd: Command) => Promise<PlatformClient>): void {
  program
    .command('async-config <name>')
    .description('show or set how async (Event) invocations are retried and where they go')
    .option('--retries <n>', 'retries after a function error, 0-2 (default 2)')
    .option('--max-age <seconds>', 'maximum event age, 60-21600 s (default 21600)')
    .option('--on-success <arn>', 'destination for results: function name/ARN or queue:NAME / queue ARN ("none" removes)')
    .option('--on-failure <arn>', 'destination for failed events ("none" removes)')
    .option('--dlq <queue>', 'dead-letter queue for failed events ("none" removes)')
    .option('--json', 'JSON output')
    .action(async (name, opts, cmd: Command) => asyncConfigCommand(await client(cmd), name, opts));

  program
    .command('invocations <function>')
    .description('records of async events and batch jobs: status, attempts, timings, error')
    .option('--status <status>', 'queued, running, retrying, succeeded or failed')
    .option('--kind <kind>', 'event or job')
    .option('--limit <n>', 'at most n records (default 50)')
    .option('--json', 'JSON output')
    .action(async (name, opts, cmd: Command) => invocationsCommand(await client(cmd), name, opts));

  program
    .command('dlq <function>')
    .description("read a function's dead-letter queue, or re-drive its events")
    .option('--redrive', 'invoke the dead letters again (asynchronously) and remove them from the queue')
    .option('--json', 'JSON output')
    .action(async (name, opts, cmd: Command) => deadLettersCommand(await client(cmd), name, opts));

  const queue = program.command('queue').description('durable queues (SQS-like): create, send, receive, ls, rm, purge');
  queue
    .command('create <name>')
    .option('--visibility-timeout <seconds>', 'how long a received message stays hidden (default 30)')
    .option('--retention <seconds>', 'how long messages are kept (default 4 days)')
    .option('--delay <seconds>', 'delay before new messages are visible')
    .option('--dlq <queue>', 'dead-letter queue (with --max-receive-count)')
    .option('--max-receive-count <n>', 'receives before a message moves to the dead-letter queue')
    .option('--json', 'JSON output')
    .action(async (name, opts, cmd: Command) => queueCreateCommand(await client(cmd), name, opts));
  queue
    .command('send <name> [bodies...]')
    .option('--file <path>', 'one message per line (- for stdin)')
    .action(async (name, bodies, opts, cmd: Command) => queueSendCommand(await client(cmd), name, bodies, opts));
  queue
    .command('receive <name>')
    .option('--max <n>', 'up to n messages, 1-10 (default 1)')
    .option('--wait <seconds>', 'long-poll up to this long (0-20)')
    .option('--visibility-timeout <seconds>', 'override the queue visibility timeout')
    .option('--delete', 'delete the messages once printed')
    .option('--json', 'JSON output (with receipt handles)')
    .action(async (name, opts, cmd: Command) => queueReceiveCommand(await client(cmd), name, opts));
  queue
    .command('ls')
    .option('--json', 'JSON output')
    .action(async (opts, cmd: Command) => queueListCommand(await client(cmd), opts));
  queue.command('rm <name>').action(async (name, _opts, cmd: Command) => queueRemoveCommand(await client(cmd), name));
  queue.command('purge <name>').action(async (name, _opts, cmd: Command) => queuePurgeCommand(await client(cmd), name));

  program
    .command('schedule <function> [expression]')
    .description('run a function on a schedule: "rate(5 minutes)" or "cron(0 12 * * ? *)" (UTC); without an expression, list')
    .option('--name <rule>', 'rule name (default FUNCTION-schedule)')
    .option('--input <json>', 'send this event instead of the scheduled-event JSON')
    .option('--disable', 'keep the schedule but stop firing it')
    .option('--rm', 'remove the schedule')
    .option('--json', 'JSON output')
    .action(async (fn, expression, opts, cmd: Command) => scheduleCommand(await client(cmd), fn, expression, opts));

  program
    .command('batch <function> <input>')
    .description('batch prediction: run a .csv or .jsonl file through a function in parallel chunks, results in input order')
    .requiredOption('-o, --output <path>', 'output file (.jsonl, or .csv for one prediction column)')
    .option('--chunk-rows <n>', 'rows per invocation (default 500)')
    .option('--concurrency <n>', 'chunks in flight (default 4)')
    .option('--retries <n>', 'retries per failed chunk (default 3)')
    .option('--qualifier <q>', 'version or alias')
    .option('--resume', 'continue an interrupted run from its journal (OUTPUT.journal)')
    .action(async (fn, input, opts, cmd: Command) => batchCommand(await client(cmd), fn, input, opts));
}
