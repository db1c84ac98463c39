#!/usr/bin/env node
// Runs the compiled test suite with Node's built-in runner.
// Usage: node scripts/run-tests.js [substring ...]   (only test files whose path contains a substring)
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, 'dist', 'test');

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect(testRoot, [])
  .filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${relative(root, testRoot)} match ${filters.join(', ') || '(all)'}`);
  process.exit(1);
}
// End-to-end tests spend most of their time waiting on child processes, so a little more
// parallelism than cores keeps the suite short without starving the servers under test.
const concurrency = Number(process.env.MODELFN_TEST_CONCURRENCY ?? Math.max(2, Math.min(4, availableParallelism())));
const args = ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files];
const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, MODELFN_TEST: '1' } });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
