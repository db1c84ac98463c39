import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, deployDir, fixture, invoke, mustDeploy, removeTree, sleep, startPlatform } from '../support/platform.js';

test('SIGTERM drains requests in flight, then stops every instance', async () => {
  const p = await startPlatform();
  try {
    await mustDeploy(p.url, 'slow', fixture('functions', 'slow'));
    await invoke(p.url, 'slow', { ms: 1 });
    const running = invoke(p.url, 'slow', { ms: 1500 });
    await sleep(300);
    const exitCode = p.stop();
    const res = await running;
    assert.equal(res.status, 200, 'the call in flight finished');
    assert.equal(await exitCode, 0);
    await assert.rejects(fetch(`${p.url}/_modelfn/v1/health`));
  } finally {
    await p.cleanup();
  }
});

test('one platform per data directory', async () => {
  const p = await startPlatform();
  try {
    const second = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', p.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    second.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(err, /is in use by another modelfn process \(pid \d+\)/);
  } finally {
    await p.cleanup();
  }
});

test('kill -9 at any moment of a redeploy leaves the old or the new function, never half', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'modelfn-crash-'));
  const code = await mkdtemp(join(tmpdir(), 'modelfn-crash-code-'));
  try {
    const source = (v: number) => `exports.handler = async () => ({ version: ${v} });\n// ${'x'.repeat(200_000 + v)}`;
    let p = await startPlatform({ dataDir });
    await writeFile(join(code, 'index.js'), source(0));
    await mustDeploy(p.url, 'fn', code);
    for (let round = 1; round <= 8; round++) {
      await writeFile(join(code, 'index.js'), source(round));
      const deploying = deployDir(p.url, 'fn', code).catch(() => undefined);
      await sleep(round * 7);
      await p.kill9();
      await deploying;
      p = await startPlatform({ dataDir });
      const view = (await (await fetch(`${p.url}/_modelfn/v1/functions/fn`)).json()) as { codeSha256: string };
      assert.match(view.codeSha256, /^[0-9a-f]{64}$/);
      const res = await invoke(p.url, 'fn');
      assert.equal(res.status, 200, `round ${round}: ${res.body}`);
      const { version } = res.json() as { version: number };
      assert.ok(version === round || version < round, `round ${round} runs version ${version}`);
    }
    await p.cleanup();
  } finally {
    await removeTree(dataDir);
    await removeTree(code);
  }
});
