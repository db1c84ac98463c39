import { loadConfig, splitList } from '../../server/config.js';
import { Platform } from '../../server/platform.js';
import { instanceScheduling } from '../../runtimes/process/instance-scheduling.js';
import { deployExamples } from '../../server/examples.js';

export interface UpOptions {
  host?: string;
  port?: string;
  dataDir?: string;
  keepAlive?: string;
  memoryBudget?: string;
  logLevel?: string;
  examples?: boolean;
  python?: string;
  pythonPreload?: string;
  /** false with --no-zygote */
  zygote?: boolean;
  /** false with --no-stem-cells */
  stemCells?: boolean;
  /** fixed or adaptive: the keep-alive policy of functions that do not choose one. */
  keepAlivePolicy?: string;
  auth?: string;
  /** nats://host:port[,more]: join a cluster instead of the embedded default. */
  cluster?: string;
  /** auto, bwrap or none. */
  sandbox?: string;
  allowUnsandboxed?: boolean;
  /** batch or normal. */
  instanceScheduling?: string;
  pipelineDepth?: string;
}

/** `modelfn up`: run the platform in this process until SIGTERM / SIGINT. */
export async function upCommand(opts: UpOptions): Promise<void> {
  const config = loadConfig(process.env, {
    host: opts.host,
    port: numeric(opts.port),
    dataDir: opts.dataDir,
    defaultKeepAliveSec: numeric(opts.keepAlive),
    memoryBudgetMb: numeric(opts.memoryBudget),
    logLevel: opts.logLevel,
    deployExamples: opts.examples,
    auth: opts.auth,
    python: opts.python,
    pythonPreload: opts.pythonPreload === undefined ? undefined : splitList(opts.pythonPreload),
    pythonZygote: opts.zygote === false ? false : undefined,
    stemCells: opts.stemCells === false ? false : undefined,
    defaultKeepAlivePolicy: opts.keepAlivePolicy,
    cluster: opts.cluster === undefined ? undefined : splitList(opts.cluster),
    sandbox: opts.sandbox,
    allowUnsandboxed: opts.allowUnsandboxed === true ? true : undefined,
    instanceScheduling: opts.instanceScheduling,
    pipelineDepth: numeric(opts.pipelineDepth),
  });
  const platform = await Platform.start(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    platform.log.info({ signal }, 'draining in-flight requests, then stopping');
    platform.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const lines = [`modelfn is up at ${platform.url} (data in ${config.dataDir})`];
  lines.push(platform.sandbox.enabled ? `  sandbox:    ${platform.sandbox.description}` : `  WARNING:    sandbox ${platform.sandbox.description}`);
  if (platform.sandbox.enabled) lines.push(`              ${platform.sandbox.memory}`);
  lines.push(`  scheduling: instances under ${instanceScheduling() === 'batch' ? 'SCHED_BATCH (woken instances do not preempt the gateway)' : 'SCHED_OTHER'}`);
  lines.push(
    config.pipelineDepth > 1
      ? `  pipelining: a fast function's calls wait behind a busy Node.js instance (up to ${config.pipelineDepth} per instance, expected wait under ${config.pipelineWaitMs} ms)`
      : '  pipelining: off (--pipeline-depth 1): every concurrent call gets an instance of its own',
  );
  if (platform.cluster) lines.push(`  cluster:    node ${platform.cluster.id} joined ${config.cluster!.join(',')}`);
  if (config.deployExamples) lines.push(...(await deployExamples(platform)));
  lines.push(`  functions:  MODELFN_ENDPOINT=${platform.url} MODELFN_HOME=${config.dataDir} npx modelfn ls`);
  if (config.auth === 'sigv4') {
    lines.push(
      `  AWS CLI:    AWS_SHARED_CREDENTIALS_FILE=${platform.credentialsFile} AWS_CONFIG_FILE=${platform.awsConfigFile} aws --profile modelfn --endpoint-url ${platform.url} lambda list-functions`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Flags arrive as strings; a malformed number is passed through for the schema to name. */
function numeric(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return /^\d+$/.test(value) ? Number(value) : value;
}
