import { performance } from 'node:perf_hooks';
import type { ModelSignature } from '../../models/codecs/signature.js';
import { ModelfnError } from '../../shared/errors.js';
import { fromPackageRoot } from '../../shared/paths.js';
import type { FunctionConfig } from '../../registry/types.js';
import type { BundleFacts, Instance, InstanceExit, InstanceSpec, InvokeRequest, InvokeResponse, Runtime } from '../runtime.js';
import { InitFailure } from '../runtime.js';
import type { RuntimeInitPhases } from '../runtime.js';
import { StemCellPool } from '../stem-cells/stem-cell-pool.js';
import { StemCells } from '../stem-cells/stem-cells.js';
import type { ModelFormat } from '../../models/codecs/signature.js';
import { HostProcess } from './host-process.js';
import type { HostSandboxing } from './host-process.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { checkModelHandler, resolveModelFile } from './model-files.js';
import type { LoadHead } from './protocol.js';

export interface ModelRuntimeOptions {
  readonly nodePath?: string;
  /** Kinds (format x memory size) to keep a warm spare host for; 0 disables spares. */
  readonly spareKinds?: number;
  /** Budget for loading a model at deploy time. */
  readonly validateTimeoutMs?: number;
  /** The platform's stem cells (spare hosts are the model runtime's); absent: spares on, with their own budget. */
  readonly stemCells?: StemCells;
  /** Every host in its own sandbox (default: none). */
  readonly sandbox?: Sandbox;
  /** Sandboxed hosts: where each gets its own task folder (required with an enabled sandbox). */
  readonly cellsDir?: string;
}

/** What a warmed-up spare host holds before it loads a model (resident size measured on this machine), until measured. */
const SPARE_ESTIMATE_MB = 80;

const WARMUP = {
  sklearn: fromPackageRoot('src', 'runtimes', 'model', 'assets', 'warmup.joblib'),
  onnx: fromPackageRoot('src', 'runtimes', 'model', 'assets', 'warmup.onnx'),
} as const;

/** Function environment variable: ONNX Runtime intra-op threads per instance (default 1). */
export const THREADS_ENV = 'MODELFN_ONNX_THREADS';

/**
 * Zero-code model functions (runtime "model"): the handler is a model file in the bundle
 * (.onnx, or a scikit-learn .joblib/.pkl), served with no user code. Each instance is one model
 * host process (isolated, with the memory watchdog and the V8 heap cap of the function's memory
 * size); a warm spare host per recently used kind makes a cold start just the model load.
 */
export class ModelRuntime implements Runtime {
  readonly family = 'model';
  readonly identifiers = ['model'];
  private readonly nodePath: string;
  private readonly spares: StemCellPool<HostProcess>;
  private readonly validateTimeoutMs: number;
  private readonly sandboxing: HostSandboxing | undefined;

  constructor(options: ModelRuntimeOptions = {}) {
    this.nodePath = options.nodePath ?? process.execPath;
    if (options.sandbox?.enabled && !options.cellsDir) throw new Error('a sandboxed model runtime needs a folder for its hosts');
    this.sandboxing = options.sandbox?.enabled ? { sandbox: options.sandbox, cellsDir: options.cellsDir! } : undefined;
    this.validateTimeoutMs = options.validateTimeoutMs ?? 60_000;
    const spareKinds = options.spareKinds ?? sparesFromEnv(process.env.MODELFN_MODEL_SPARES) ?? 2;
    // Spare hosts are the model runtime's stem cells: one per (format, memory size), for the most recently used kinds.
    this.spares = new StemCellPool<HostProcess>({
      runtime: this.family,
      hub: options.stemCells ?? new StemCells({ enabled: true, budgetMb: 4096 }),
      spawn: (key) => {
        const { format, memoryMb } = parseKind(key);
        return new HostProcess({ nodePath: this.nodePath, format, memoryMb, warmupFile: WARMUP[format], ...(this.sandboxing ? { sandbox: this.sandboxing } : {}) });
      },
      estimateMb: () => SPARE_ESTIMATE_MB,
      perKind: 1,
      maxKinds: spareKinds,
    });
  }

  validate(config: Pick<FunctionConfig, 'handler' | 'runtime'>): void {
    checkModelHandler(config.handler);
  }

  /** Load the model once at deploy time: a model that cannot be served is refused with the reason. */
  async validateBundle(codeDir: string, config: Pick<FunctionConfig, 'name' | 'handler' | 'runtime' | 'memoryMb' | 'environment'>): Promise<BundleFacts> {
    const format = checkModelHandler(config.handler);
    const path = await resolveModelFile(codeDir, config.handler);
    const host = this.spares.take(kindOf(format, config.memoryMb)) ?? this.spawn(format, config.memoryMb);
    host.claim(() => undefined);
    try {
      const ready = await host.load(loadHead(host.place(path), format, config, '$LATEST'), this.validateTimeoutMs);
      return { model: ready.signature };
    } catch (err) {
      if (err instanceof InitFailure) {
        throw new ModelfnError('INVALID_BUNDLE', `${config.handler} cannot be served: ${err.error.errorMessage}`);
      }
      throw err;
    } finally {
      host.kill();
    }
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    const { config } = spec;
    const format = checkModelHandler(config.handler);
    const path = await resolveModelFile(spec.codeDir, config.handler).catch((err: Error) => {
      throw new InitFailure({ errorType: 'Runtime.ModelLoadError', errorMessage: err.message });
    });
    // A spare (stem cell) is replaced off the request path by the pool.
    const spare = this.spares.take(kindOf(format, config.memoryMb));
    const host = spare ?? this.spawn(format, config.memoryMb);
    host.claim(spec.onLog);
    const started = performance.now();
    const ready = await host.load(loadHead(host.place(path), format, config, config.version), spec.initTimeoutMs);
    const done = performance.now();
    const totalMs = done - started;
    spec.onLog({
      stream: 'console',
      level: 'INFO',
      text: `MODEL ${config.handler} (${ready.signature.description}) loaded in ${ready.loadMs.toFixed(2)} ms; instance ready in ${totalMs.toFixed(2)} ms (${spare ? 'warm spare host' : 'new host process'})`,
    });
    // Process start: until the host had booted (a spare may still be warming up); user init: the model load.
    const bootedMs = Math.min(totalMs, Math.max(0, (host.readyAt ?? started) - started));
    const phases: RuntimeInitPhases = { processStartMs: bootedMs, runtimeInitMs: Math.max(0, totalMs - bootedMs - ready.loadMs), userInitMs: ready.loadMs, stemCell: spare !== undefined };
    return new ModelInstance(spec.id, host, ready.signature, phases);
  }

  /** Warm a spare for a kind of model ahead of its first cold start. */
  prime(format: ModelFormat, memoryMb: number): void {
    this.spares.prime(kindOf(format, memoryMb));
  }

  get spareCount(): number {
    return this.spares.size;
  }

  /** Stop the spare hosts (instances are stopped by the scheduler). */
  close(): Promise<void> {
    return this.spares.close();
  }

  private spawn(format: 'onnx' | 'sklearn', memoryMb: number): HostProcess {
    return new HostProcess({ nodePath: this.nodePath, format, memoryMb, ...(this.sandboxing ? { sandbox: this.sandboxing } : {}) });
  }
}

/** MODELFN_MODEL_SPARES: how many kinds of model keep a warm spare host (0 turns spares off). */
function sparesFromEnv(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,2}$/.test(value) ? Number(value) : undefined;
}

function loadHead(path: string, format: 'onnx' | 'sklearn', config: Pick<FunctionConfig, 'name' | 'environment'>, version: string): LoadHead {
  const threads = Number(config.environment[THREADS_ENV]);
  return {
    path,
    format,
    functionName: config.name,
    version,
    ...(Number.isInteger(threads) && threads > 0 ? { intraOpThreads: Math.min(threads, 64) } : {}),
  };
}

function kindOf(format: ModelFormat, memoryMb: number): string {
  return `${format}:${memoryMb}`;
}

function parseKind(key: string): { format: ModelFormat; memoryMb: number } {
  const [format, memory] = key.split(':');
  return { format: format as ModelFormat, memoryMb: Number(memory) };
}

/** A running model instance. */
class ModelInstance implements Instance {
  constructor(
    readonly id: string,
    private readonly host: HostProcess,
    readonly signature: ModelSignature,
    readonly initPhases: RuntimeInitPhases,
  ) {}

  get pid(): number | undefined {
    return this.host.pid;
  }

  get alive(): boolean {
    return this.host.alive;
  }

  get exited(): Promise<InstanceExit> {
    return this.host.exited;
  }

  invoke(request: InvokeRequest): Promise<InvokeResponse> {
    return this.host.invoke(request.requestId, request.payload);
  }

  kill(): void {
    this.host.kill();
  }
}
