import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fromPackageRoot } from '../../../src/shared/paths.js';

// The trace-id variable lives in JavaScript (the bootstrap replaces process.env with a proxy), so
// it runs in a child process: the test's own environment stays as it is.
const MODULE = fromPackageRoot('dist', 'src', 'runtimes', 'nodejs', 'bootstrap', 'trace-env.js');

function run(script: string): unknown {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `import { installTraceEnv } from ${JSON.stringify(MODULE)};\n${script}`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KEEP: 'kept', _X_AMZN_TRACE_ID: 'Root=initial' },
  });
  return JSON.parse(out);
}

test('the trace id reads, lists, spreads and reaches child processes like any variable; the others stay real', () => {
  const seen = run(`
    import { execFileSync } from 'node:child_process';
    const env = installTraceEnv();
    const initial = process.env._X_AMZN_TRACE_ID;
    env.set('Root=1-abc');
    const child = execFileSync('/usr/bin/env', { encoding: 'utf8' }).split('\\n').filter((l) => l.startsWith('_X_AMZN') || l.startsWith('MINE'));
    process.env.MINE = 'x';
    const child2 = execFileSync('/usr/bin/env', { encoding: 'utf8' }).split('\\n').filter((l) => l.startsWith('MINE'));
    const listed = Object.keys(process.env).includes('_X_AMZN_TRACE_ID');
    const spread = { ...process.env }._X_AMZN_TRACE_ID;
    const has = '_X_AMZN_TRACE_ID' in process.env;
    env.set(undefined);
    const after = [process.env._X_AMZN_TRACE_ID ?? null, '_X_AMZN_TRACE_ID' in process.env, Object.keys(process.env).includes('_X_AMZN_TRACE_ID')];
    process.env._X_AMZN_TRACE_ID = 'Root=user';
    const userSet = process.env._X_AMZN_TRACE_ID;
    delete process.env._X_AMZN_TRACE_ID;
    console.log(JSON.stringify({ initial, child, child2, listed, spread, has, after, userSet, gone: process.env._X_AMZN_TRACE_ID ?? null, keep: process.env.KEEP }));
  `);
  assert.deepEqual(seen, {
    initial: 'Root=initial',
    child: ['_X_AMZN_TRACE_ID=Root=1-abc'],
    child2: ['MINE=x'],
    listed: true,
    spread: 'Root=1-abc',
    has: true,
    after: [null, false, false],
    userSet: 'Root=user',
    gone: null,
    keep: 'kept',
  });
});

test('a new trace id per call costs no memory (glibc keeps every value setenv replaced)', () => {
  const grown = run(`
    const env = installTraceEnv();
    for (let i = 0; i < 20000; i++) env.set('Root=1-' + i.toString(16).padStart(8, '0') + '-' + 'a'.repeat(24));
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 200000; i++) env.set('Root=1-' + (i + 1e6).toString(16).padStart(8, '0') + '-' + 'b'.repeat(24));
    console.log(JSON.stringify((process.memoryUsage().rss - before) / 1048576));
  `) as number;
  // Through setenv this grew by about 28 MB (140 bytes a call).
  assert.ok(grown < 8, `grew ${grown.toFixed(1)} MB over 200,000 trace ids`);
});
