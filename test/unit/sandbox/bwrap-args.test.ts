import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { API_DIR, TASK_ROOT, bwrapArgs, parentFolders, prlimitArgs } from '../../../src/runtimes/sandbox/bwrap-args.js';
import type { BwrapPlan } from '../../../src/runtimes/sandbox/bwrap-args.js';
import { processLimits } from '../../../src/runtimes/sandbox/limits.js';
import { emptyFolder, linkTree } from '../../../src/runtimes/sandbox/task-dir.js';

const plan: BwrapPlan = {
  taskDir: '/data/unpacked/abc',
  mounts: [{ source: '/opt/node', target: '/var/runtime/nodejs/node' }],
  network: 'allow',
  tmpSizeMb: 512,
  limits: processLimits('nodejs', 128, 512),
  host: { symlinks: { '/bin': 'usr/bin' }, folders: [], etc: [{ source: '/etc/hosts', target: '/etc/hosts', optional: true }] },
  infoFd: 4,
  cwd: TASK_ROOT,
  command: '/usr/bin/node',
  args: ['index.js'],
};

/** The value after each occurrence of a flag with arity 2 (source, target). */
function pairs(args: string[], flag: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  args.forEach((a, i) => a === flag && out.push([args[i + 1]!, args[i + 2]!]));
  return out;
}

test('a sandbox sees its code and runtime read-only, a private /tmp of its size, and nothing of the data directory', () => {
  const args = bwrapArgs(plan);
  assert.ok(args.includes('--unshare-user') && args.includes('--unshare-pid') && args.includes('--die-with-parent'));
  assert.ok(!args.includes('--unshare-net'), 'network allowed');
  assert.deepEqual(pairs(args, '--ro-bind').find(([, t]) => t === TASK_ROOT), ['/data/unpacked/abc', TASK_ROOT]);
  assert.deepEqual(pairs(args, '--ro-bind').find(([, t]) => t === '/var/runtime/nodejs/node'), ['/opt/node', '/var/runtime/nodejs/node']);
  assert.equal(pairs(args, '--bind').length, 0, 'nothing writable is bound');
  const size = args.indexOf('--size');
  assert.deepEqual(args.slice(size, size + 4), ['--size', String(512 * 1024 * 1024), '--tmpfs', '/tmp']);
  // Every host path bound is one the plan named: no /home, /root, /run, /var or data directory.
  const sources = [...pairs(args, '--ro-bind'), ...pairs(args, '--ro-bind-try')].map(([s]) => s);
  assert.deepEqual(sources.sort(), ['/data/unpacked/abc', '/etc/hosts', '/opt/node', '/usr'].sort());
  // The program runs under prlimit with hard limits, as the unprivileged sandbox uid.
  const sep = args.indexOf('--');
  assert.deepEqual(args.slice(sep + 1, sep + 2), ['/usr/bin/prlimit']);
  assert.ok(args.includes('--uid') && args[args.indexOf('--uid') + 1] === '1000');
  assert.deepEqual(args.slice(-2), ['/usr/bin/node', 'index.js']);
});

test('network deny unshares the network and binds the Runtime API socket folder; root mode drops to the sandbox uid with setpriv', () => {
  const args = bwrapArgs({ ...plan, network: 'deny', apiDir: '/data/api/x', rootBlockFd: 5 });
  assert.ok(args.includes('--unshare-net'));
  assert.deepEqual(pairs(args, '--bind'), [['/data/api/x', API_DIR]]);
  assert.equal(args[args.indexOf('--userns-block-fd') + 1], '5');
  const setpriv = args.indexOf('/usr/bin/setpriv');
  assert.ok(setpriv > args.indexOf('--'), 'setpriv runs inside');
  assert.ok(args.includes('--reuid=1000') && args.includes('--bounding-set=-all') && args.includes('--inh-caps=-all'));
});

test('limits: processes, private memory and no core files, hard and soft alike; the kernel cap covers memory and /tmp', () => {
  const limits = processLimits('python', 256, 1024);
  assert.deepEqual(prlimitArgs(limits), ['--nproc=1024:1024', '--core=0:0', `--data=${(2 * 256 + 384) * 1048576}:${(2 * 256 + 384) * 1048576}`]);
  assert.equal(limits.memoryCapMb, 256 + 1024);
});

test('parent folders of mount points are made, parents first, never under /usr, /proc, /dev or /tmp', () => {
  assert.deepEqual(parentFolders(['/var/runtime/nodejs/node', '/etc/hosts', '/usr/lib/x', '/tmp/a/b']), ['/etc', '/var', '/var/runtime', '/var/runtime/nodejs']);
});

test('a stem cell\'s task folder gets hard links to the code tree, and is emptied when linking cannot be done', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-link-'));
  try {
    const source = join(dir, 'code');
    await mkdir(join(source, 'lib', 'deep'), { recursive: true });
    await writeFile(join(source, 'index.js'), 'x');
    await writeFile(join(source, 'lib', 'deep', 'a.js'), 'y');
    const target = join(dir, 'cell');
    await mkdir(target);
    assert.equal(linkTree(source, target), true);
    assert.deepEqual((await readdir(target)).sort(), ['index.js', 'lib']);
    assert.equal((await stat(join(target, 'lib', 'deep', 'a.js'))).ino, (await stat(join(source, 'lib', 'deep', 'a.js'))).ino, 'a hard link, not a copy');
    emptyFolder(target);
    assert.deepEqual(await readdir(target), []);
    // A tree over the entry limit is not linked at all.
    const big = join(dir, 'big');
    await mkdir(big);
    for (let i = 0; i < 5; i++) await writeFile(join(big, `f${i}`), '');
    assert.equal(linkTree(big, target, 3), false);
    assert.deepEqual(await readdir(target), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
