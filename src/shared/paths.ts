import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/**
 * The package root, found from this compiled file (dist/src/shared/paths.js), so assets that are
 * not compiled (Python bootstraps, examples) are found the same way in a clone and an install.
 */
export const packageRoot: string = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function fromPackageRoot(...parts: string[]): string {
  return join(packageRoot, ...parts);
}
