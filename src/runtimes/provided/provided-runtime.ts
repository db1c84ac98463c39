import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SupervisedProcess } from '../process/child-process.js';
import type { Instance, InstanceSpec, Runtime, RuntimeInitPhases } from '../runtime.js';
import { InitFailure } from '../runtime.js';
import { RuntimeApiEndpoint, RuntimeApiInstance } from '../runtime-api/runtime-api-instance.js';

/**
 * Custom runtimes (`provided.al2023`, `provided.al2`, `provided`): the bundle's executable
 * `bootstrap` is started in the code folder and talks the Lambda Runtime API, in any language.
 * The handler string is passed as _HANDLER and otherwise left to the bootstrap.
 */
export class ProvidedRuntime implements Runtime {
  readonly family = 'provided';
  readonly identifiers = ['provided.al2023', 'provided.al2', 'provided'];

  async start(spec: InstanceSpec): Promise<Instance> {
    const bootstrap = join(spec.codeDir, 'bootstrap');
    await checkEntrypoint(bootstrap);
    const endpoint = await RuntimeApiEndpoint.open({ onLog: spec.onLog });
    let instance: ProvidedInstance | undefined;
    try {
      const spawning = performance.now();
      const proc = new SupervisedProcess({
        command: bootstrap,
        args: [],
        cwd: spec.codeDir,
        env: { ...spec.env, AWS_LAMBDA_RUNTIME_API: endpoint.address },
        onLog: spec.onLog,
      });
      let spawnError: NodeJS.ErrnoException | undefined;
      proc.child.once('error', (err: NodeJS.ErrnoException) => (spawnError = err));
      // spawn() returns once the kernel has started the bootstrap (fork and exec).
      const spawned = performance.now();
      instance = new ProvidedInstance(spec.id, endpoint, proc);
      await instance.ready(spec.initTimeoutMs).catch((err: unknown) => {
        // A bootstrap the kernel cannot execute (no shebang, a missing interpreter) fails at spawn.
        if (spawnError) throw invalidEntrypoint(`fork/exec ${bootstrap}: ${describeSpawnError(spawnError)}`);
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
