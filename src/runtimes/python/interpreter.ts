import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Where to look when no interpreter is configured: Debian's system Python first, then PATH. */
export const DEFAULT_PYTHON_CANDIDATES = ['/usr/bin/python3', 'python3'] as const;

/**
 * The interpreter a `python3.x` function runs on.
 *
 * Lambda's identifiers name a version (python3.11, python3.12, ...). modelfn maps every one of them
 * to ONE configured interpreter (`--python`, $MODELFN_PYTHON, else the first of
 * DEFAULT_PYTHON_CANDIDATES that exists): most machines have one Python with the packages the
 * functions need, and a function declared as python3.12 usually runs unchanged on 3.11. To pin
 * versions, this is the one place to change: resolve per identifier (e.g. python3.12 ->
 * /usr/bin/python3.12 when it exists, else the configured one) and keep one zygote per resolved
 * path (the Python runtime already keys zygotes by interpreter path).
 */
export function resolvePython(configured: string | undefined, pathEnv: string | undefined = process.env.PATH): string | undefined {
  if (configured !== undefined && configured !== '') return findExecutable(configured, pathEnv);
  for (const candidate of DEFAULT_PYTHON_CANDIDATES) {
    const found = findExecutable(candidate, pathEnv);
    if (found) return found;
  }
  return undefined;
}

/** An absolute path to an executable file, or a bare name looked up on PATH. */
export function findExecutable(name: string, pathEnv: string | undefined): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? (isAbsolute(name) ? name : join(process.cwd(), name)) : undefined;
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    if (isExecutable(path)) return path;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `python3.11` -> true; the identifiers the Python runtime serves. */
export const PYTHON_IDENTIFIERS = ['python3.8', 'python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14'] as const;
