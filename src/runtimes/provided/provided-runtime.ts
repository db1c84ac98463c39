import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SupervisedProcess } from '../process/child-process.js';
import type { Instance, InstanceSpec, Runtime } from '../runtime.js';
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
    let instance: RuntimeApiInstance | undefined;
    try {
      const proc = new SupervisedProcess({
        command: bootstrap,
        args: [],
        cwd: spec.codeDir,
        env: { ...spec.env, AWS_LAMBDA_RUNTIME_API: endpoint.address },
        onLog: spec.onLog,
      });
      let spawnError: NodeJS.ErrnoException | undefined;
      proc.child.once('error', (err: NodeJS.ErrnoException) => (spawnError = err));
      instance = new RuntimeApiInstance(spec.id, endpoint, proc);
      await instance.ready(spec.initTimeoutMs).catch((err: unknown) => {
        // A bootstrap the kernel cannot execute (no shebang, a missing interpreter) fails at spawn.
        if (spawnError) throw invalidEntrypoint(`fork/exec ${bootstrap}: ${describeSpawnError(spawnError)}`);
        throw err;
      });
      return instance;
    } catch (err) {
      instance?.kill();
      endpoint.close();
      throw err;
    }
  }
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
