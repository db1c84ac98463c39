import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fromPackageRoot } from '../../shared/paths.js';
import { ModelfnError } from '../../shared/errors.js';
import { SupervisedProcess } from '../process/child-process.js';
import type { FunctionConfig } from '../../registry/types.js';
import type { Instance, InstanceLogLine, InstanceSpec, Runtime, RuntimeInitPhases } from '../runtime.js';
import { InitFailure } from '../runtime.js';
import { residentMb } from '../stem-cells/stem-cells.js';
import type { StemCells } from '../stem-cells/stem-cells.js';
import { RuntimeApiEndpoint, RuntimeApiInstance } from '../runtime-api/runtime-api-instance.js';
import type { ProcessHandle } from '../runtime-api/runtime-api-instance.js';
import { API_DIR, RUNTIME_ROOT, SANDBOX_GID, SANDBOX_UID, TASK_ROOT } from '../sandbox/bwrap-args.js';
import { DEFAULT_TMP_MB, networkOf, processLimits, tmpSizeOf } from '../sandbox/limits.js';
import { SandboxHolders } from './sandbox-holders.js';
import type { Sandbox} from '../sandbox/sandbox.js';
import { executableMounts } from '../sandbox/sandbox.js';
import { SandboxedFork } from './sandboxed-fork.js';
import { forkBlocker } from './fork-eligibility.js';
import { DEFAULT_PYTHON_CANDIDATES, PYTHON_IDENTIFIERS, findExecutable, resolvePython } from './interpreter.js';
import { Zygote } from './zygote.js';
import type { ZygoteInfo } from './zygote.js';

const BOOTSTRAP_DIR = fromPackageRoot('src', 'runtimes', 'python', 'bootstrap');
const BOOTSTRAP = join(BOOTSTRAP_DIR, 'modelfn_bootstrap.py');
/** The bootstrap folder inside a sandbox. */
const SANDBOX_BOOTSTRAP_DIR = `${RUNTIME_ROOT}/python`;

/** Modules worth importing once in the zygote: what scikit-learn model handlers use. */
export const DEFAULT_PYTHON_PRELOAD = [
  'numpy',
  'scipy',
  'joblib',
  'sklearn',
  'sklearn.ensemble',
  'sklearn.linear_model',
  'sklearn.tree',
  'sklearn.pipeline',
  'sklearn.preprocessing',
] as const;

export interface PythonRuntimeOptions {
  /** Interpreter path or name; undefined: /usr/bin/python3, then python3 on PATH. */
  readonly python?: string;
  /** Modules the zygote imports before it forks instances. */
  readonly preload?: readonly string[];
  /** Fork instances from a pre-initialised interpreter (default true). */
  readonly zygote?: boolean;
  /** A folder for the runtime's own processes (the zygote's cwd and temp dir). */
  readonly workDir: string;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
  /**
   * The platform's stem cells: the zygote is Python's stem cell. Switched off, there is no zygote;
   * it is counted in their memory budget (and not started when it does not fit).
   */
  readonly stemCells?: StemCells;
  /** Every instance in its own sandbox (default: none); forked instances enter theirs (modelfn_zygote.py). */
  readonly sandbox?: Sandbox;
  /** Sandboxed: where pre-started sandboxes for forks get their task folders (none kept without it). */
  readonly cellsDir?: string;
}

/** What the zygote holds after importing the default modules (about 110 MB measured), until measured. */
const ZYGOTE_ESTIMATE_MB = 110;

/** The bootstrap's line with its init phases (modelfn_runtime.INIT_MARKER), written just before its first /next. */
const INIT_MARKER = '\u0000modelfn-init ';

/**
 * Python handlers (`def handler(event, context)`), through the Lambda Runtime API: every instance
 * runs modelfn's bootstrap (bootstrap/modelfn_runtime.py, standard library only), either forked
 * from a zygote that has already imported the heavy modules, or as a fresh interpreter when
 * there is no zygote (disabled, not ready yet, restarting) or when forking would not be faithful
 * for this function (fork-eligibility.ts).
 */
export class PythonRuntime implements Runtime {
  readonly family = 'python';
  readonly identifiers: readonly string[] = PYTHON_IDENTIFIERS;
  /** The resolved interpreter, or undefined when none exists (deploys are refused). */
  readonly interpreter: string | undefined;
  private readonly zygotes = new Map<string, Zygote>();
  private closed = false;
  private zygoteChargeMb = 0;
  private zygoteMeasured = false;
  private forks = 0;
  private fresh = 0;
  private readonly holders: SandboxHolders | undefined;

  constructor(private readonly options: PythonRuntimeOptions) {
    this.interpreter = resolvePython(options.python);
    this.holders = options.sandbox?.enabled && options.cellsDir ? new SandboxHolders(options.sandbox, options.cellsDir) : undefined;
    options.stemCells?.register(() => ({
      runtime: this.family,
      hits: this.forks,
      misses: this.fresh,
      kinds: [...this.zygotes].map(([python, z]) => ({ key: python, ready: z.ready ? 1 : 0, starting: z.ready || !z.pid ? 0 : 1, memoryMb: Math.round(this.zygoteChargeMb) })),
    }));
  }

  validate(config: Pick<FunctionConfig, 'handler' | 'runtime'>): void {
    if (!this.interpreter || !findExecutable(this.interpreter, undefined)) {
      const looked = this.options.python ? JSON.stringify(this.options.python) : DEFAULT_PYTHON_CANDIDATES.join(', ');
      throw new ModelfnError(
        'INVALID_PARAMETER',
        `runtime ${config.runtime} needs a Python interpreter and none was found (looked for ${looked}); start the platform with --python PATH or set MODELFN_PYTHON`,
      );
    }
    if (config.handler.trim() === '' || /\s/.test(config.handler)) {
      throw new ModelfnError('INVALID_PARAMETER', `handler ${JSON.stringify(config.handler)} must look like module.function (e.g. lambda_function.lambda_handler)`);
    }
    // A Python function is being deployed: boot the zygote now, so its first cold start can fork.
    void this.zygote()?.start().catch(() => undefined);
  }

  /** The zygote of the configured interpreter (started on first use), for status and tests. */
  zygote(): Zygote | undefined {
    if (this.options.zygote === false || this.options.stemCells?.enabled === false) return undefined;
    if (!this.interpreter || this.closed) return undefined;
    let zygote = this.zygotes.get(this.interpreter);
    if (!zygote) {
      const hub = this.options.stemCells;
      if (hub && !hub.tryCharge(ZYGOTE_ESTIMATE_MB)) {
        this.options.log?.('warn', `python zygote not started: the stem cells' memory budget (${hub.budgetMb} MB) is full`);
        return undefined;
      }
      this.zygoteChargeMb = hub ? ZYGOTE_ESTIMATE_MB : 0;
      zygote = new Zygote({
        python: this.interpreter,
        preload: this.options.preload ?? DEFAULT_PYTHON_PRELOAD,
        dir: this.options.workDir,
        log: this.options.log,
      });
      this.zygotes.set(this.interpreter, zygote);
    }
    return zygote;
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    const python = this.interpreter;
    if (!python) throw new InitFailure({ errorType: 'Runtime.InvalidEntrypoint', errorMessage: 'no Python interpreter is configured on this platform' });
    const phases = new InitPhasesListener(spec.onLog);
    // A sandbox without a network reaches its Runtime API over a unix socket in a folder only it mounts.
    const sandbox = this.options.sandbox?.enabled ? this.options.sandbox : undefined;
    const apiDir = sandbox && networkOf(spec.config) === 'deny' ? join(dirname(spec.tmpDir), 'api') : undefined;
    if (apiDir) await mkdir(apiDir, { recursive: true, mode: 0o755 });
    const endpoint = await RuntimeApiEndpoint.open({
      onLog: phases.onLog,
      ...(apiDir ? { socket: { hostPath: join(apiDir, 'runtime.sock'), sandboxPath: `${API_DIR}/runtime.sock` } } : {}),
    });
    let proc: ProcessHandle | undefined;
    try {
      const env = { ...spec.env, AWS_LAMBDA_RUNTIME_API: endpoint.address };
      const startedAt = performance.timeOrigin + performance.now();
      const forked = await this.fork(spec, env, endpoint.hostAddress, apiDir);
      if (forked) this.forks++;
      else this.fresh++;
      proc = forked ?? this.spawn(python, spec, env, phases.onLog, apiDir);
      const instance = new PythonInstance(spec.id, endpoint, proc);
      await instance.ready(spec.initTimeoutMs);
      instance.initPhases = await phases.read(startedAt, forked !== undefined);
      return instance;
    } catch (err) {
      proc?.kill();
      endpoint.close();
      throw err;
    }
  }

  /** Stop the zygotes (instances are the scheduler's to stop). */
  async close(): Promise<void> {
    this.closed = true;
    this.holders?.close();
    await Promise.all([...this.zygotes.values()].map((z) => z.close()));
    this.zygotes.clear();
    this.options.stemCells?.release(this.zygoteChargeMb);
    this.zygoteChargeMb = 0;
  }

  /** The zygote's real size replaces the estimate in the stem cells' budget (once). */
  private measureZygote(zygote: Zygote): void {
    const hub = this.options.stemCells;
    if (!hub || this.zygoteMeasured) return;
    this.zygoteMeasured = true;
    void residentMb(zygote.pid).then((mb) => {
      if (mb === undefined || this.closed) return;
      hub.adjust(this.zygoteChargeMb, mb);
      this.zygoteChargeMb = mb;
    });
  }

  private spawn(python: string, spec: InstanceSpec, env: Record<string, string>, onLog: (line: InstanceLogLine) => void, apiDir: string | undefined): ProcessHandle {
    const sandbox = this.options.sandbox;
    if (!sandbox?.enabled) return new SupervisedProcess({ command: python, args: ['-B', '-u', BOOTSTRAP], cwd: spec.codeDir, env, onLog });
    return sandbox.spawn({
      taskDir: spec.codeDir,
      mounts: [...executableMounts(python), { source: BOOTSTRAP_DIR, target: SANDBOX_BOOTSTRAP_DIR }],
      ...(apiDir ? { apiDir } : {}),
      network: networkOf(spec.config),
      tmpSizeMb: tmpSizeOf(spec.config),
      limits: processLimits('python', spec.config.memoryMb, tmpSizeOf(spec.config)),
      command: python,
      args: ['-B', '-u', `${SANDBOX_BOOTSTRAP_DIR}/modelfn_bootstrap.py`],
      cwd: TASK_ROOT,
      env,
      onLog,
    });
  }

  /**
   * Sandboxed: the instance's sandbox, holding a placeholder process until the forked child has
   * joined it (same namespaces, mounts and limits as a fresh interpreter's sandbox).
   */
  private async holder(spec: InstanceSpec, apiDir: string | undefined) {
    const sandbox = this.options.sandbox!;
    const holder = sandbox.spawn({
      taskDir: spec.codeDir,
      mounts: [],
      ...(apiDir ? { apiDir } : {}),
      network: networkOf(spec.config),
      tmpSizeMb: tmpSizeOf(spec.config),
      limits: processLimits('python', spec.config.memoryMb, tmpSizeOf(spec.config)),
      command: '/usr/bin/sleep',
      args: ['infinity'],
      cwd: TASK_ROOT,
      env: { PATH: '/usr/bin:/bin' },
      onLog: () => undefined,
    });
    try {
      return { holder, pids: await holder.started };
    } catch (err) {
      holder.kill();
      throw err;
    }
  }

  /** A process forked from the zygote, or undefined when this start must use a fresh interpreter. */
  private async fork(spec: InstanceSpec, env: Record<string, string>, logAddress: string, apiDir: string | undefined): Promise<ProcessHandle | undefined> {
    const zygote = this.zygote();
    if (!zygote) return undefined;
    const info: ZygoteInfo | undefined = zygote.ready;
    if (!info) {
      // First use (or a restart): this instance starts fresh while the zygote boots.
      void zygote.start().catch((err: Error) => this.options.log?.('warn', `python zygote failed to start: ${err.message}`));
      return undefined;
    }
    if (info.threads > 1) return undefined;
    if (await forkBlocker(spec.config.environment, spec.codeDir, info)) return undefined;
    const sandboxed = this.options.sandbox?.enabled === true;
    let held: Awaited<ReturnType<PythonRuntime['holder']>> | undefined;
    try {
      if (!sandboxed) {
        const child = await zygote.fork({ id: spec.id, env, cwd: spec.codeDir });
        this.measureZygote(zygote);
        return child;
      }
      // A pre-started sandbox when the function's is the default one; otherwise (or none ready) a new one.
      const pooled = apiDir === undefined && networkOf(spec.config) === 'allow' && tmpSizeOf(spec.config) === DEFAULT_TMP_MB;
      held = (pooled ? this.holders?.take(spec.config.memoryMb, spec.codeDir) : undefined) ?? (await this.holder(spec, apiDir));
      const limits = processLimits('python', spec.config.memoryMb, tmpSizeOf(spec.config));
      const waiter = await zygote.fork({
        id: spec.id,
        env,
        cwd: TASK_ROOT,
        log: logAddress,
        sandbox: {
          pid: held.pids.runtime,
          uid: SANDBOX_UID,
          gid: SANDBOX_GID,
          processes: limits.processes,
          ...(limits.dataMb ? { dataBytes: limits.dataMb * 1024 * 1024 } : {}),
          ...(held.holder.cgroup ? { cgroupProcs: held.holder.cgroup.procsFile } : {}),
        },
      });
      this.measureZygote(zygote);
      return new SandboxedFork(waiter, held.holder);
    } catch (err) {
      held?.holder.kill();
      this.options.log?.('warn', `python zygote fork failed, starting a fresh interpreter: ${(err as Error).message}`);
      return undefined;
    }
  }
}

/** A Python instance, with the phases its bootstrap reported. */
class PythonInstance extends RuntimeApiInstance {
  initPhases: RuntimeInitPhases | undefined;
}

/**
 * Reads the bootstrap's init-phases line (INIT_MARKER + JSON, written just before its first /next)
 * out of the instance's stdout; every other line goes on to the instance's log. Only a line seen
 * before the instance is ready counts; after that, everything passes through.
 */
class InitPhasesListener {
  private phases: { began: number; runtimeInitMs: number; userInitMs: number } | undefined;
  private done = false;
  private arrived: (() => void) | undefined;

  constructor(private readonly forward: (line: InstanceLogLine) => void) {}

  readonly onLog = (line: InstanceLogLine): void => {
    if (!this.done && line.stream === 'stdout' && line.text.startsWith(INIT_MARKER)) {
      try {
        const p = JSON.parse(line.text.slice(INIT_MARKER.length)) as { began?: unknown; runtimeInitMs?: unknown; userInitMs?: unknown };
        if (typeof p.began === 'number' && typeof p.runtimeInitMs === 'number' && typeof p.userInitMs === 'number') {
          this.phases = { began: p.began, runtimeInitMs: p.runtimeInitMs, userInitMs: p.userInitMs };
          this.arrived?.();
          return;
        }
      } catch {
        /* not ours: log it */
      }
    }
    this.forward(line);
  };

  /** The phases (waiting a moment for the line, which travels apart from the Runtime API). */
  async read(startedAt: number, stemCell: boolean): Promise<RuntimeInitPhases> {
    if (!this.phases) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.arrived = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.done = true;
    const p = this.phases;
    if (!p) return { stemCell };
    return { processStartMs: Math.max(0, p.began - startedAt), runtimeInitMs: Math.max(0, p.runtimeInitMs), userInitMs: Math.max(0, p.userInitMs), stemCell };
  }
}
