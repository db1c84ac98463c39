import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A node's id, kept in its data directory: a node that restarts rejoins under the same name.
 * Letters, digits and '-' only (it is used in NATS subjects).
 */
export async function nodeIdOf(dataDir: string): Promise<string> {
  const path = join(dataDir, 'node-id');
  const existing = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (/^[A-Za-z0-9-]{1,64}$/.test(existing)) return existing;
  const id = `node-${randomBytes(5).toString('hex')}`;
  await writeFile(path, `${id}\n`);
  return id;
}
