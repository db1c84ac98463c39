import { fromPackageRoot } from '../../shared/paths.js';
import { ModelfnError } from '../../shared/errors.js';
import { SupervisedProcess } from '../process/child-process.js';
import type { FunctionConfig } from '../../registry/types.js';
import type { Instance, InstanceSpec, Runtime } from '../runtime.js';
import { InitFailure } from '../runtime.js';
import { RuntimeApiEndpoint, RuntimeApiInstance } from '../runtime-api/runtime-api-instance.js';
import type { ProcessHandle } from '../runtime-api/runtime-api-instance.js';
import { forkBlocker } from './fork-eligibility.js';
import { DEFAULT_PYTHON_CANDIDATES, PYTHON_IDENTIFIERS, findExecutable, resolvePython } from './interpreter.js';
import { Zygote } from './zygote.js';
import type { ZygoteInfo } from './zygote.js';

const BOOTSTRAP = fromPackageRoot('src', 'runtimes', 'python', 'bootstrap', 'modelfn_bootstrap.py');

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
}

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

  constructor(private readonly options: PythonRuntimeOptions) {
    this.interpreter = resolvePython(options.python);
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
    if (this.options.zygote === false) return undefined;
    if (!this.interpreter || this.closed) return undefined;
    let zygote = this.zygotes.get(this.interpreter);
    if (!zygote) {
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
    const endpoint = await RuntimeApiEndpoint.open({ onLog: spec.onLog });
    let proc: ProcessHandle | undefined;
    try {
      const env = { ...spec.env, AWS_LAMBDA_RUNTIME_API: endpoint.address };
      proc = (await this.fork(spec, env)) ?? this.spawn(python, spec, env);
      const instance = new RuntimeApiInstance(spec.id, endpoint, proc);
      await instance.ready(spec.initTimeoutMs);
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
    await Promise.all([...this.zygotes.values()].map((z) => z.close()));
    this.zygotes.clear();
  }

  private spawn(python: string, spec: InstanceSpec, env: Record<string, string>): ProcessHandle {
    return new SupervisedProcess({ command: python, args: ['-B', '-u', BOOTSTRAP], cwd: spec.codeDir, env, onLog: spec.onLog });
  }

  /** A process forked from the zygote, or undefined when this start must use a fresh interpreter. */
  private async fork(spec: InstanceSpec, env: Record<string, string>): Promise<ProcessHandle | undefined> {
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
    try {
      return await zygote.fork({ id: spec.id, env, cwd: spec.codeDir });
    } catch (err) {
      this.options.log?.('warn', `python zygote fork failed, starting a fresh interpreter: ${(err as Error).message}`);
      return undefined;
    }
  }
}
