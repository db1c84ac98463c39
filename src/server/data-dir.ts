import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The embedded default's layout under one data directory. */
export interface DataDirLayout {
  readonly root: string;
  readonly registryDb: string;
  readonly logs: string;
  readonly blobs: string;
  readonly unpacked: string;
  readonly instances: string;
}

export function layoutOf(root: string): DataDirLayout {
  return {
    root,
    registryDb: join(root, 'modelfn.db'),
    logs: join(root, 'logs'),
    blobs: join(root, 'blobs'),
    unpacked: join(root, 'unpacked'),
    instances: join(root, 'instances'),
  };
}

/**
 * One platform process per data directory: a lock file holding the owner's pid. A lock left by a
 * process that no longer runs (kill -9) is taken over.
 */
export async function lockDataDir(root: string): Promise<() => Promise<void>> {
  await mkdir(join(root, 'logs'), { recursive: true });
  const path = join(root, 'modelfn.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(String(process.pid));
      await file.close();
      return async () => {
        await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
        throw new Error(`data directory ${root} is in use by another modelfn process (pid ${owner})`);
      }
      await rm(path, { force: true });
    }
  }
  throw new Error(`could not lock data directory ${root}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
