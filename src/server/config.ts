import { availableParallelism, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseOrThrow } from '../shared/validation.js';

const MB = 1024 * 1024;

/** Every platform setting, validated once at start; afterwards the values are trusted. */
export const platformConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    dataDir: z.string().min(1).default('.modelfn'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'must look like us-east-1' }).default('us-east-1'),
    accountId: z.string().regex(/^\d{12}$/, { message: 'must be 12 digits' }).default('000000000000'),
    defaultKeepAliveSec: z.number().int().min(0).max(7 * 86400).default(600),
    reapIntervalMs: z.number().int().min(10).max(60_000).default(1000),
    memoryBudgetMb: z.number().int().min(128).default(Math.floor((totalmem() / MB) * 0.75)),
    accountConcurrency: z.number().int().min(1).max(100_000).default(1000),
    minUnreservedConcurrency: z.number().int().min(0).default(100),
    maxQueueLength: z.number().int().min(0).max(100_000).default(256),
    maxQueueWaitMs: z.number().int().min(0).max(900_000).default(5000),
    eagerInstances: z.number().int().min(1).max(100_000).default(2 * availableParallelism()),
    /**
     * Pipelining: the most invocations a Node.js instance holds at once, the running one and those
     * handed over behind it while the expected wait stays under 1 ms (1: off). See policies.ts mayPipeline.
     */
    pipelineDepth: z.number().int().min(1).max(64).default(16),
    /** The longest expected wait (ms) behind an instance's calls that pipelining accepts. */
    pipelineWaitMs: z.number().min(0.01).max(1000).default(1),
    /** Instance starts at once, platform-wide (see SchedulerOptions.maxConcurrentStarts). */
    maxConcurrentStarts: z.number().int().min(1).max(10_000).default(Math.max(8, 4 * availableParallelism())),
    initTimeoutMs: z.number().int().min(100).max(900_000).default(10_000),
    maxSyncPayloadBytes: z.number().int().min(1024).default(6 * MB),
    maxBundleBytes: z.number().int().min(1024).default(50 * MB),
    maxUnpackedBytes: z.number().int().min(1024).default(250 * MB),
    drainTimeoutMs: z.number().int().min(0).default(30_000),
    logRetentionDays: z.number().min(0).default(7),
    logMaxMbPerFunction: z.number().int().min(1).default(256),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    deployExamples: z.boolean().default(false),
    /** sigv4: the Lambda and modelfn APIs require AWS Signature Version 4; none: open (development only). */
    auth: z.enum(['sigv4', 'none']).default('sigv4'),
    /** Interpreter for python3.x functions; unset: /usr/bin/python3, then python3 on PATH. */
    python: z.string().min(1).optional(),
    /** Modules the Python zygote imports before forking instances; unset: the runtime's default list. */
    pythonPreload: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, { message: 'must be module names like numpy or sklearn.ensemble' }))
      .max(200)
      .optional(),
    /** Fork Python instances from a pre-initialised interpreter. */
    pythonZygote: z.boolean().default(true),
    /**
     * Stem cells: started, generic runtime processes a cold start takes over (Node.js processes with
     * the runtime loaded, the Python zygote, model hosts with the engine loaded). Off: every cold start
     * starts a new process.
     */
    stemCells: z.boolean().default(true),
    /** Memory all stem cells together may hold (MB, outside the instances' memory budget). */
    stemCellMemoryMb: z.number().int().min(0).max(1_048_576).default(512),
    /** Node.js stem cells kept per memory size (for the two most recently used sizes). */
    nodeStemCells: z.number().int().min(0).max(16).default(2),
    /** Keep-alive policy of functions that do not choose one: fixed (Lambda's) or adaptive (hybrid histogram). */
    defaultKeepAlivePolicy: z.enum(['fixed', 'adaptive'], { message: 'must be "fixed" or "adaptive"' }).default('fixed'),
    /** Hold the idle memory of adaptive functions to what their fixed keep-alive would hold (the warm-memory budget). */
    warmMemoryBudget: z.boolean().default(true),
    /** With the warm-memory budget: an absolute cap on their idle memory (MB) instead; 0: the fixed keep-alive's. */
    warmMemoryCapMb: z.number().int().min(0).default(0),
    /** Async invocations: delay before the first retry after a function error (Lambda: about 1 min). */
    asyncRetryBaseMs: z.number().int().min(1).max(3_600_000).default(60_000),
    /** Async events in flight per function without reserved concurrency. */
    asyncConcurrency: z.number().int().min(1).max(10_000).default(2 * availableParallelism()),
    /** Largest payload of an asynchronous invocation (Lambda: 1 MB). */
    maxAsyncPayloadBytes: z.number().int().min(1024).max(6 * MB).default(MB),
    /** events.db durability: full fsyncs every (group) commit; normal survives a process crash. */
    eventsSync: z.enum(['full', 'normal']).default('full'),
    /** Commit the event writes of one event-loop turn together (one fsync for many events). */
    eventsGroupCommit: z.boolean().default(true),
    /** Days to keep finished invocation records. */
    recordRetentionDays: z.number().min(0).max(3660).default(7),
    /** Test aid: also accept rate(N seconds) schedules. */
    scheduleSecondRates: z.boolean().default(false),
    /** Metrics (/metrics) and metering (usage, cost); off for a bare-throughput comparison. Logs stay on. */
    telemetry: z.boolean().default(true),
    /** A price table of your own for `modelfn cost` (the format of src/telemetry/metering/prices.json). */
    pricesFile: z.string().min(1).optional(),
    meteringRetentionDays: z.number().min(1).max(3660).default(400),
    /** Distinct (function, version) label pairs in /metrics; the least recently active rest is "other". */
    metricsMaxSeries: z.number().int().min(1).max(100_000).default(200),
    /** Cluster mode: the NATS servers to join (nats://host:port, comma-separated); unset: the embedded default. */
    cluster: z
      .array(z.string().regex(/^(nats|tls):\/\/[^\s,/]+:\d+$/, { message: 'must be nats://host:port URLs, comma-separated' }))
      .min(1)
      .optional(),
    /** Cluster mode: replicas of every JetStream stream and bucket (3 on a 3-server NATS cluster). */
    clusterReplicas: z.union([z.literal(1), z.literal(3), z.literal(5)], { message: 'must be 1, 3 or 5' }).default(1),
    /** Cluster mode: a node's leased async work comes back to the others after at most this long when it dies. */
    clusterLeaseMs: z.number().int().min(500).max(600_000).default(30_000),
    /** Cluster mode: heartbeat interval; a node silent for 3 of them is down. */
    clusterHeartbeatMs: z.number().int().min(100).max(60_000).default(1000),
    /**
     * Sandboxing of instances (src/runtimes/sandbox/): auto uses bubblewrap when it works here and
     * otherwise refuses to start (unless allowUnsandboxed); bwrap requires it; none runs functions
     * as plain processes.
     */
    sandbox: z.enum(['auto', 'bwrap', 'none'], { message: 'must be "auto", "bwrap" or "none"' }).default('auto'),
    /** With sandbox auto: start without a sandbox when bubblewrap does not work here (with a warning). */
    allowUnsandboxed: z.boolean().default(false),
    /** The bubblewrap binary (default /usr/bin/bwrap, else bwrap on PATH). */
    bwrapPath: z.string().min(1).optional(),
    /** The OS scheduling class of instances (src/runtimes/process/instance-scheduling.ts): batch (SCHED_BATCH, default) or normal. */
    instanceScheduling: z.enum(['batch', 'normal'], { message: 'must be "batch" or "normal"' }).default('batch'),
  })
  .strict();

export type PlatformConfig = z.infer<typeof platformConfigSchema>;

/** Environment variables that set platform options (flags given on the command line win). */
const ENV_KEYS: Record<string, { key: keyof PlatformConfig; type: 'string' | 'number' | 'list' | 'boolean' }> = {
  MODELFN_HOST: { key: 'host', type: 'string' },
  MODELFN_PORT: { key: 'port', type: 'number' },
  MODELFN_HOME: { key: 'dataDir', type: 'string' },
  MODELFN_REGION: { key: 'region', type: 'string' },
  MODELFN_ACCOUNT_ID: { key: 'accountId', type: 'string' },
  MODELFN_KEEP_ALIVE: { key: 'defaultKeepAliveSec', type: 'number' },
  MODELFN_MEMORY_BUDGET_MB: { key: 'memoryBudgetMb', type: 'number' },
  MODELFN_LOG_LEVEL: { key: 'logLevel', type: 'string' },
  MODELFN_AUTH: { key: 'auth', type: 'string' },
  MODELFN_MAX_QUEUE_LENGTH: { key: 'maxQueueLength', type: 'number' },
  MODELFN_MAX_QUEUE_WAIT_MS: { key: 'maxQueueWaitMs', type: 'number' },
  MODELFN_REAP_INTERVAL_MS: { key: 'reapIntervalMs', type: 'number' },
  MODELFN_INIT_TIMEOUT_MS: { key: 'initTimeoutMs', type: 'number' },
  MODELFN_EAGER_INSTANCES: { key: 'eagerInstances', type: 'number' },
  MODELFN_PIPELINE_DEPTH: { key: 'pipelineDepth', type: 'number' },
  MODELFN_PIPELINE_WAIT_MS: { key: 'pipelineWaitMs', type: 'number' },
  MODELFN_MAX_CONCURRENT_STARTS: { key: 'maxConcurrentStarts', type: 'number' },
  MODELFN_ACCOUNT_CONCURRENCY: { key: 'accountConcurrency', type: 'number' },
  MODELFN_DRAIN_TIMEOUT_MS: { key: 'drainTimeoutMs', type: 'number' },
  MODELFN_PYTHON: { key: 'python', type: 'string' },
  MODELFN_PYTHON_PRELOAD: { key: 'pythonPreload', type: 'list' },
  MODELFN_PYTHON_ZYGOTE: { key: 'pythonZygote', type: 'boolean' },
  MODELFN_STEM_CELLS: { key: 'stemCells', type: 'boolean' },
  MODELFN_STEM_CELL_MEMORY_MB: { key: 'stemCellMemoryMb', type: 'number' },
  MODELFN_NODE_STEM_CELLS: { key: 'nodeStemCells', type: 'number' },
  MODELFN_KEEP_ALIVE_POLICY: { key: 'defaultKeepAlivePolicy', type: 'string' },
  MODELFN_WARM_MEMORY_BUDGET: { key: 'warmMemoryBudget', type: 'boolean' },
  MODELFN_WARM_MEMORY_CAP_MB: { key: 'warmMemoryCapMb', type: 'number' },
  MODELFN_ASYNC_RETRY_BASE_MS: { key: 'asyncRetryBaseMs', type: 'number' },
  MODELFN_ASYNC_CONCURRENCY: { key: 'asyncConcurrency', type: 'number' },
  MODELFN_MAX_ASYNC_PAYLOAD_BYTES: { key: 'maxAsyncPayloadBytes', type: 'number' },
  MODELFN_EVENTS_SYNC: { key: 'eventsSync', type: 'string' },
  MODELFN_EVENTS_GROUP_COMMIT: { key: 'eventsGroupCommit', type: 'boolean' },
  MODELFN_RECORD_RETENTION_DAYS: { key: 'recordRetentionDays', type: 'number' },
  MODELFN_SCHEDULE_SECONDS: { key: 'scheduleSecondRates', type: 'boolean' },
  MODELFN_TELEMETRY: { key: 'telemetry', type: 'boolean' },
  MODELFN_PRICES: { key: 'pricesFile', type: 'string' },
  MODELFN_METERING_RETENTION_DAYS: { key: 'meteringRetentionDays', type: 'number' },
  MODELFN_METRICS_MAX_SERIES: { key: 'metricsMaxSeries', type: 'number' },
  MODELFN_CLUSTER: { key: 'cluster', type: 'list' },
  MODELFN_CLUSTER_REPLICAS: { key: 'clusterReplicas', type: 'number' },
  MODELFN_CLUSTER_LEASE_MS: { key: 'clusterLeaseMs', type: 'number' },
  MODELFN_CLUSTER_HEARTBEAT_MS: { key: 'clusterHeartbeatMs', type: 'number' },
  MODELFN_SANDBOX: { key: 'sandbox', type: 'string' },
  MODELFN_ALLOW_UNSANDBOXED: { key: 'allowUnsandboxed', type: 'boolean' },
  MODELFN_BWRAP: { key: 'bwrapPath', type: 'string' },
  MODELFN_INSTANCE_SCHEDULING: { key: 'instanceScheduling', type: 'string' },
};

/** Build the configuration from an environment (a map, so tests pass their own) and explicit options. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, options: Partial<Record<keyof PlatformConfig, unknown>>): PlatformConfig {
  const fromEnv: Record<string, unknown> = {};
  for (const [name, { key, type }] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    fromEnv[key] = type === 'number' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : type === 'list' ? splitList(value) : type === 'boolean' ? parseFlag(value) : value;
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const config = parseOrThrow(platformConfigSchema, { ...fromEnv, ...defined }, 'platform configuration');
  return { ...config, dataDir: resolve(config.dataDir) };
}

/** "numpy, sklearn" -> ['numpy', 'sklearn'] (flags and environment variables). */
export function splitList(value: string): string[] {
  return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
}

/** 1/0, true/false, yes/no, on/off; anything else is passed through for the schema to name. */
function parseFlag(value: string): boolean | string {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value;
}
