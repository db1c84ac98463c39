import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ModelfnError } from '../../shared/errors.js';
import type { FunctionConfig } from '../../registry/types.js';
import { SupervisedProcess } from '../process/child-process.js';
import type { Instance, InstanceLogLine, InstanceSpec, Runtime, RuntimeInitPhases } from '../runtime.js';
import { InitFailure } from '../runtime.js';
import { RuntimeApiEndpoint, RuntimeApiInstance } from '../runtime-api/runtime-api-instance.js';
import { TASK_ROOT } from '../sandbox/bwrap-args.js';
import { networkOf, processLimits, tmpSizeOf } from '../sandbox/limits.js';
import { Sandbox } from '../sandbox/sandbox.js';

export interface ProvidedRuntimeOptions {
  /** Every bootstrap in its own sandbox (default: none). */
  readonly sandbox?: Sandbox;
}

/**
 * Custom runtimes (`provided.al2023`, `provided.al2`, `provided`): the bundle's executable
 * `bootstrap` is started in the code folder and talks the Lambda Runtime API, in any language.
 * The handler string is passed as _HANDLER and otherwise left to the bootstrap.
 *
 * A bootstrap reaches the Runtime API at AWS_LAMBDA_RUNTIME_API, a loopback TCP address, as every
 * Lambda runtime client expects; a sandbox without a network has no route to it. So `network:
 * deny` is refused for custom runtimes (400 at deploy) rather than relayed by a forwarder inside
 * the sandbox (a process of the platform's running next to the user's, in the user's memory).
 */
export class ProvidedRuntime implements Runtime {
  readonly family = 'provided';
  readonly identifiers = ['provided.al2023', 'provided.al2', 'provided'];
  private readonly sandbox: Sandbox;

  constructor(options: ProvidedRuntimeOptions = {}) {
    this.sandbox = options.sandbox ?? Sandbox.none();
  }

  validate(config: Pick<FunctionConfig, 'handler' | 'runtime' | 'network'>): void {
    if (config.network === 'deny') {
      throw new ModelfnError(
        'INVALID_PARAMETER',
        `network: "deny" is not available for ${config.runtime}: a custom bootstrap reaches the Runtime API over loopback TCP (AWS_LAMBDA_RUNTIME_API), which a sandbox without a network cannot reach; use "allow", or a Node.js or Python runtime`,
      );
    }
  }

  async start(spec: InstanceSpec): Promise<Instance> {
    const bootstrap = join(spec.codeDir, 'bootstrap');
    await checkEntrypoint(bootstrap);
    if (networkOf(spec.config) === 'deny') throw invalidEntrypoint('network "deny" is not available for custom runtimes');
    const endpoint = await RuntimeApiEndpoint.open({ onLog: spec.onLog });
    let instance: ProvidedInstance | undefined;
    try {
      const spawning = performance.now();
      const env = { ...spec.env, AWS_LAMBDA_RUNTIME_API: endpoint.address };
      let execFailure: string | undefined;
      const proc = this.sandbox.enabled
        ? this.sandbox.spawn({
            taskDir: spec.codeDir,
            mounts: [],
            network: 'allow',
            tmpSizeMb: tmpSizeOf(spec.config),
            limits: processLimits('provided', spec.config.memoryMb, tmpSizeOf(spec.config)),
            command: `${TASK_ROOT}/bootstrap`,
            args: [],
            cwd: TASK_ROOT,
            env,
            onLog: (line: InstanceLogLine) => {
              // bwrap reports a bootstrap the kernel cannot execute on stderr, then exits 1.
              const m = /^bwrap: execvp \S+: (.*)$/.exec(line.text);
              if (m && line.stream === 'stderr') execFailure = m[1]!.toLowerCase();
              else spec.onLog(line);
            },
          })
        : // Unscheduled: a bootstrap the kernel cannot execute must fail at spawn (read below), not inside chrt.
          new SupervisedProcess({ command: bootstrap, args: [], cwd: spec.codeDir, env, onLog: spec.onLog, scheduled: false });
      let spawnError: NodeJS.ErrnoException | undefined;
      proc.child.once('error', (err: NodeJS.ErrnoException) => (spawnError = err));
      // spawn() returns once the kernel has started the bootstrap (fork and exec).
      const spawned = performance.now();
      instance = new ProvidedInstance(spec.id, endpoint, proc);
      const shown = this.sandbox.enabled ? `${TASK_ROOT}/bootstrap` : bootstrap;
      await instance.ready(spec.initTimeoutMs).catch((err: unknown) => {
        // A bootstrap the kernel cannot execute (no shebang, a missing interpreter) fails at spawn.
        if (spawnError) throw invalidEntrypoint(`fork/exec ${shown}: ${describeSpawnError(spawnError)}`);
        if (execFailure) throw invalidEntrypoint(`fork/exec ${shown}: ${execFailure}`);
        throw err;
      });
      // The bootstrap is the function's own code: its init up to its first /next is user init.
      instance.initPhases = { processStartMs: spawned - spawning, userInitMs: performance.now() - spawned, stemCell: false };
      return instance;
    } catch (err) {
      instance?.kill();
      endpoint.close();
      throw err;
    }
  }
}

/** A custom-runtime instance with the phases the platform could see (spawn, then the bootstrap's init). */
class ProvidedInstance extends RuntimeApiInstance {
  initPhases: RuntimeInitPhases | undefined;
}

/** Lambda's own wording for a bundle without a usable bootstrap. */
async function checkEntrypoint(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info || !info.isFile()) throw invalidEntrypoint(`Couldn't find valid bootstrap(s): [${path}]`);
  try {
    await access(path, constants.X_OK);
  } catch {
    throw invalidEntrypoint(`fork/exec ${path}: permission denied`);
  }
}

function invalidEntrypoint(message: string): InitFailure {
  return new InitFailure({ errorType: 'Runtime.InvalidEntrypoint', errorMessage: message });
}

function describeSpawnError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'ENOEXEC':
      return 'exec format error';
    default:
      return err.message;
  }
}
