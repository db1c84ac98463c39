import { Command, Option } from 'commander';
import { ModelfnError } from '../shared/errors.js';
import { MODELFN_VERSION } from '../server/version.js';
import { CliError, PlatformClient, defaultEndpoint } from './client.js';
import { resolveCredentials } from './credentials.js';
import { RequestSigner } from './signer.js';
import { deployCommand } from './commands/deploy.js';
import { invokeCommand } from './commands/invoke.js';
import { listCommand, removeCommand, routesCommand } from './commands/list.js';
import { logsCommand } from './commands/logs.js';
import { keysCreateCommand, keysListCommand, keysRevokeCommand } from './commands/keys.js';
import { costCommand } from './commands/cost.js';
import { upCommand } from './commands/up.js';
import { clusterCommand } from './commands/cluster.js';
import { registerEventCommands } from './commands/event-commands.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A client for the platform, signing with the credentials found (see resolveCredentials). */
async function client(cmd: Command): Promise<PlatformClient> {
  const endpoint = (cmd.optsWithGlobals() as { endpoint?: string }).endpoint ?? defaultEndpoint(process.env);
  const found = await resolveCredentials(process.env);
  return new PlatformClient(endpoint, found ? new RequestSigner(found.credentials, found.region) : undefined);
}

const program = new Command('modelfn')
  .description('Self-hosted serverless functions and models: Lambda-compatible, scale to zero.')
  .version(MODELFN_VERSION)
  .addOption(new Option('--endpoint <url>', 'platform URL (default $MODELFN_ENDPOINT or http://127.0.0.1:8080)'))
  .showHelpAfterError();

program
  .command('up')
  .description('run the platform (embedded SQLite + files under the data directory)')
  .option('--host <host>', 'address to listen on (default 127.0.0.1, or $MODELFN_HOST)')
  .option('--port <port>', 'port to listen on (default 8080, or $MODELFN_PORT; 0 picks a free one)')
  .option('--data-dir <dir>', 'data directory (default ./.modelfn, or $MODELFN_HOME)')
  .option('--keep-alive <seconds>', 'default idle time before an instance stops (default 600)')
  .option('--memory-budget <mb>', 'total memory for instances (default 75% of RAM)')
  .option('--log-level <level>', 'platform log level (default info)')
  .option('--examples', 'deploy the bundled examples at start')
  .option('--auth <mode>', 'sigv4 (default: the APIs need signed requests) or none (open; development only)')
  .option('--python <path>', 'Python interpreter for python3.x functions (default $MODELFN_PYTHON, else /usr/bin/python3, else python3 on PATH)')
  .option('--python-preload <modules>', 'modules the Python zygote imports once, comma-separated (default numpy,scipy,joblib,sklearn,...)')
  .option('--no-zygote', 'start every Python instance as a fresh interpreter (no pre-initialised zygote)')
  .option('--no-stem-cells', 'no stem cells: every cold start starts a new process (or MODELFN_STEM_CELLS=off)')
  .option('--keep-alive-policy <policy>', 'keep-alive of functions that do not choose one: fixed (default) or adaptive (or MODELFN_KEEP_ALIVE_POLICY)')
  .option('--cluster <urls>', 'join a cluster: NATS servers nats://host:port[,more] (or $MODELFN_CLUSTER); default: embedded, one machine')
  .option('--sandbox <mode>', 'auto (default: bubblewrap when it works here, else refuse to start), bwrap (required) or none (or $MODELFN_SANDBOX)')
  .option('--allow-unsandboxed', 'with --sandbox auto: start without a sandbox where bubblewrap does not work (or MODELFN_ALLOW_UNSANDBOXED=1)')
  .option('--instance-scheduling <class>', 'OS scheduling class of instances: batch (default: SCHED_BATCH, woken instances do not preempt the gateway) or normal (or $MODELFN_INSTANCE_SCHEDULING)')
  .option('--pipeline-depth <n>', 'the most invocations a Node.js instance holds at once, running and handed over behind it, while the expected wait stays under 1 ms (default 16; 1: off; or $MODELFN_PIPELINE_DEPTH)')
  .action((opts) => upCommand(opts));

program
  .command('deploy <path>')
  .description('deploy a folder or .zip as a function, or a model file (.onnx, .joblib, .pkl) as a zero-code model endpoint')
  .option('--name <name>', 'function name (default: the folder or file name)')
  .option('--runtime <runtime>', 'e.g. nodejs20.x')
  .option('--handler <handler>', 'e.g. index.handler')
  .option('--memory <mb>', 'memory size, 128-10240 MB')
  .option('--timeout <seconds>', 'timeout, 1-900 s')
  .option('--env <KEY=VALUE>', 'environment variable (repeatable)', collect)
  .option('--concurrency <n>', 'reserved concurrency (cap on parallel instances)')
  .option('--keep-alive <seconds>', 'idle time before an instance stops')
  .option('--keep-alive-policy <policy>', 'fixed (the keep-alive above), adaptive (pre-warm and keep-alive learnt from idle times) or default (the platform\'s)')
  .option('--route <"METHOD /path">', 'HTTP route to the function (repeatable; "$default" catches all)', collect)
  .option('--payload-format <version>', 'API Gateway payload format for the routes: 2.0 (default) or 1.0')
  .option('--route-auth <mode>', 'none (public, default) or aws_iam (callers sign with SigV4) for the routes')
  .option('--description <text>', 'description')
  .option('--batch <max,delayMs>', 'model files: merge concurrent requests into calls of up to max rows, waiting at most delayMs ("off" to stop)')
  .option('--network <mode>', 'allow (default) or deny: a sandbox without a network (loopback only)')
  .option('--tmp-size <mb>', 'size of the private /tmp, 512-10240 MB (default 512)')
  .option('--json', 'print the function as JSON')
  .action(async (path, opts, cmd: Command) => deployCommand(await client(cmd), path, opts));

program
  .command('invoke <name>')
  .description('invoke a function directly and print its raw result')
  .option('--data <json>', 'the event (default {})')
  .option('--file <path>', 'read the event from a file (- for stdin)')
  .option('--qualifier <q>', 'version or alias')
  .option('--log', 'print the invocation log (last 4 KB) to stderr')
  .action(async (name, opts, cmd: Command) => invokeCommand(await client(cmd), name, opts));

program
  .command('ls')
  .description('list functions')
  .option('--json', 'JSON output')
  .action(async (opts, cmd: Command) => listCommand(await client(cmd), opts));

program
  .command('rm <name>')
  .description('remove a function, its routes and its logs')
  .action(async (name, _opts, cmd: Command) => removeCommand(await client(cmd), name));

program
  .command('logs <name>')
  .description('show a function\'s logs')
  .option('-f, --follow', 'keep streaming new lines')
  .option('--since <time>', 'from a time (ISO, epoch ms) or a duration back (15m, 2h, 7d)')
  .option('--request-id <id>', 'only one invocation')
  .option('--limit <n>', 'at most n lines (default 200)')
  .option('--json', 'JSON lines')
  .action(async (name, opts, cmd: Command) => logsCommand(await client(cmd), name, opts));

program
  .command('cost')
  .description('usage per function (requests, GB-seconds, CPU-seconds) and what it would cost on AWS Lambda, Google Cloud Run functions and Azure Functions')
  .option('--since <time>', 'from a time (ISO, epoch ms) or a duration back (1h, 24h, 7d; default 7d)')
  .option('--until <time>', 'up to a time (default now)')
  .option('--function <name>', 'only one function')
  .option('--json', 'JSON output')
  .action(async (opts, cmd: Command) => costCommand(await client(cmd), opts));

const keys = program.command('keys').description('manage access keys (admin keys only)');
keys
  .command('create')
  .description('create a key pair for a tenant; the secret is printed once')
  .requiredOption('--tenant <name>', 'tenant (namespace) the key belongs to')
  .option('--admin', 'an admin key: manages keys and sees every tenant')
  .option('--description <text>', 'what the key is for')
  .option('--json', 'JSON output')
  .action(async (opts, cmd: Command) => keysCreateCommand(await client(cmd), opts));
keys
  .command('ls')
  .description('list keys (never their secrets)')
  .option('--json', 'JSON output')
  .action(async (opts, cmd: Command) => keysListCommand(await client(cmd), opts));
keys
  .command('revoke <accessKeyId>')
  .description('revoke a key at once')
  .action(async (id, _opts, cmd: Command) => keysRevokeCommand(await client(cmd), id));

program
  .command('routes')
  .description('list HTTP routes')
  .option('--json', 'JSON output')
  .action(async (opts, cmd: Command) => routesCommand(await client(cmd), opts));

program
  .command('cluster')
  .description('cluster mode: the live nodes and this node\'s forwarding counts')
  .option('--json', 'JSON output')
  .action(async (opts, cmd: Command) => clusterCommand(await client(cmd), opts));

registerEventCommands(program, client);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CliError) {
    process.stderr.write(`modelfn: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  if (err instanceof ModelfnError) {
    process.stderr.write(`modelfn: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`modelfn: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
