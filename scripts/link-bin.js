#!/usr/bin/env node
// `npx modelfn` in a clone: npm looks for the command in node_modules/.bin, which holds the bins of
// dependencies only. Link this package's own CLI there (idempotent; run by `npm install`).
import { mkdirSync, symlinkSync, unlinkSync, lstatSync, chmodSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const binDir = join(root, 'node_modules', '.bin');
const target = join(root, 'bin', 'modelfn.js');
const link = join(binDir, 'modelfn');
mkdirSync(binDir, { recursive: true });
try {
  lstatSync(link);
  unlinkSync(link);
} catch {
  /* not there yet */
}
symlinkSync(relative(binDir, target), link);
chmodSync(target, 0o755);
