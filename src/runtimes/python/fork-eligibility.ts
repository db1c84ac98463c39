import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Variables read when an interpreter or a native library starts (PYTHONHASHSEED, PYTHONPATH,
 * OPENBLAS_NUM_THREADS, ...). A forked child cannot honour them: the zygote started long ago with
 * its own values. A function that sets one gets a fresh interpreter instead.
 */
const START_TIME_ENV = /^(PYTHON|OMP_|OPENBLAS_|GOTO_|MKL_|BLIS_|VECLIB_|NUMEXPR_|NPY_|NUMPY_|SCIPY_|SKLEARN_|JOBLIB_|LD_|MALLOC_)/;

/** Folders the bootstrap puts on sys.path, relative to the bundle (see modelfn_runtime.setup_sys_path). */
export function bundleImportDirs(codeDir: string, pythonVersion: string): string[] {
  return [codeDir, join(codeDir, 'python', 'lib', `python${pythonVersion}`, 'site-packages'), join(codeDir, 'python'), join(codeDir, 'vendor')];
}

const shadowCache = new Map<string, string[]>();

/**
 * Why an instance of this function must not be forked from the zygote, or undefined when it may.
 * Correctness first: a fork that would give the function something other than what a fresh
 * interpreter would give it is refused.
 */
export async function forkBlocker(
  environment: Readonly<Record<string, string>>,
  codeDir: string,
  zygote: { readonly python: string; readonly modules: ReadonlySet<string> },
): Promise<string | undefined> {
  const startTimeVars = Object.keys(environment).filter((name) => START_TIME_ENV.test(name));
  if (startTimeVars.length > 0) return `its environment sets ${startTimeVars.join(', ')}, which only a fresh interpreter reads`;
  const shadowed = (await bundleModules(codeDir, zygote.python)).filter((name) => zygote.modules.has(name));
  if (shadowed.length > 0) return `its bundle ships ${shadowed.join(', ')}, which the zygote has already imported from the system`;
  return undefined;
}

/** Top-level module names a bundle provides (cached: unpacked bundles are immutable, keyed by hash). */
async function bundleModules(codeDir: string, pythonVersion: string): Promise<string[]> {
  const key = `${codeDir}\0${pythonVersion}`;
  const cached = shadowCache.get(key);
  if (cached) return cached;
  const names = new Set<string>();
  for (const dir of bundleImportDirs(codeDir, pythonVersion)) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const name = moduleName(entry.name, entry.isDirectory());
      if (name) names.add(name);
    }
  }
  const list = [...names];
  if (shadowCache.size > 1000) shadowCache.clear();
  shadowCache.set(key, list);
  return list;
}

function moduleName(file: string, directory: boolean): string | undefined {
  if (directory) return /^[A-Za-z_][A-Za-z0-9_]*$/.test(file) ? file : undefined;
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(\..*)?\.(py|pyc|so|pyd)$/.exec(file);
  return match?.[1];
}
