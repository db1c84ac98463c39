import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
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
