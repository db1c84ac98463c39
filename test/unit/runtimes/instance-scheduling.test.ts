import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configureInstanceScheduling, instanceScheduling, scheduled } from '../../../src/runtimes/process/instance-scheduling.js';

test('batch prefixes the command with chrt --batch 0; normal and a missing chrt leave it alone', (t) => {
  t.after(() => configureInstanceScheduling('normal'));
  const missing = configureInstanceScheduling('batch', '/nonexistent/chrt');
  assert.equal(missing.scheduling, 'normal');
  assert.match(missing.detail, /\/nonexistent\/chrt not found/);
  assert.equal(instanceScheduling(), 'normal');
  assert.deepEqual(scheduled('/usr/bin/node', ['a.js']), { command: '/usr/bin/node', args: ['a.js'] });

  assert.equal(configureInstanceScheduling('normal').scheduling, 'normal');
  assert.deepEqual(scheduled('node', []), { command: 'node', args: [] });

  if (process.platform !== 'linux' || !existsSync('/usr/bin/chrt')) {
    t.diagnostic('no /usr/bin/chrt here: the batch prefix was not checked');
    return;
  }
  const batch = configureInstanceScheduling('batch');
  assert.equal(batch.scheduling, 'batch');
  assert.equal(instanceScheduling(), 'batch');
  assert.deepEqual(scheduled('/usr/bin/node', ['--flag', 'a.js']), { command: '/usr/bin/chrt', args: ['--batch', '0', '/usr/bin/node', '--flag', 'a.js'] });
});

test('a chrt the kernel refuses (seccomp, no permission) falls back to normal once, with its message', (t) => {
  t.after(() => configureInstanceScheduling('normal'));
  const dir = mkdtempSync(join(tmpdir(), 'modelfn-chrt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const refusing = join(dir, 'chrt');
  writeFileSync(refusing, "#!/bin/sh\necho \"chrt: failed to set pid 0's policy: Operation not permitted\" >&2\nexit 1\n");
  chmodSync(refusing, 0o755);
  const outcome = configureInstanceScheduling('batch', refusing);
  assert.equal(outcome.scheduling, 'normal');
  assert.match(outcome.detail, /--batch 0 failed here \(chrt: failed to set pid 0's policy: Operation not permitted\)/);
  assert.deepEqual(scheduled('node', ['x']), { command: 'node', args: ['x'] });
});
