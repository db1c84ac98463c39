import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { zip } from 'fflate';
import type { Zippable } from 'fflate';

const UNIX = 3;
const IGNORED = new Set(['.git', '.DS_Store']);

/**
 * Zip a folder for upload, keeping each file's executable bit (a `provided` runtime's bootstrap
 * must stay executable). Symlinks are refused here already: the platform would refuse them too.
 */
export async function zipDirectory(root: string): Promise<Buffer> {
  const files: Zippable = {};
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      if (IGNORED.has(name)) continue;
      const path = join(dir, name);
      const info = await lstat(path);
      const rel = relative(root, path).split(sep).join('/');
      if (info.isSymbolicLink()) throw new Error(`${rel} is a symbolic link; bundles may hold only files and folders`);
      if (info.isDirectory()) await walk(path);
      else if (info.isFile()) {
        const mode = info.mode & 0o111 ? 0o100755 : 0o100644;
        files[rel] = [await readFile(path), { os: UNIX, attrs: (mode << 16) >>> 0, mtime: info.mtime }];
      }
    }
  };
  await walk(root);
  if (Object.keys(files).length === 0) throw new Error(`${root} holds no files to deploy`);
  return new Promise((resolve, reject) => {
    zip(files, { level: 6 }, (err, data) => (err ? reject(err) : resolve(Buffer.from(data.buffer, data.byteOffset, data.byteLength))));
  });
}
