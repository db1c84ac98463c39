import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CLI, cli, fixture, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';
import { fromPackageRoot } from '../../src/shared/paths.js';

let p: RunningPlatform;

before(async () => {
  p = await startPlatform();
});

after(async () => {
  await p.cleanup();
});

test('deploy, invoke, curl the route, ls, routes, logs, rm', async () => {
  const deploy = await cli(p.url, ['deploy', fromPackageRoot('examples', 'hello-node'), '--name', 'hello', '--runtime', 'nodejs20.x', '--handler', 'index.handler', '--memory', '256', '--timeout', '10', '--env', 'A=1', '--concurrency', '4', '--keep-alive', '60', '--route', 'POST /hello']);
  assert.equal(deploy.code, 0, deploy.stderr);
  assert.match(deploy.stdout, /deployed hello \(nodejs20\.x, index\.handler, 256 MB, 10 s/);
  assert.match(deploy.stdout, /curl -X POST http:\/\/127\.0\.0\.1:\d+\/hello/);

  const route = await fetch(`${p.url}/hello`, { method: 'POST', body: '{"name":"x"}' });
  assert.equal(((await route.json()) as { message: string }).message, 'hello, x');

  const inv = await cli(p.url, ['invoke', 'hello', '--data', '{"name":"y"}']);
  assert.equal(inv.code, 0, inv.stderr);
  assert.equal((JSON.parse(inv.stdout) as { message: string }).message, 'hello, y');

  const ls = await cli(p.url, ['ls']);
  assert.match(ls.stdout, /^NAME\s+RUNTIME\s+HANDLER/m);
  assert.match(ls.stdout, /hello\s+nodejs20\.x\s+index\.handler\s+256 MB\s+10 s/);
  const lsJson = JSON.parse((await cli(p.url, ['ls', '--json'])).stdout) as Array<{ name: string; reservedConcurrency: number; keepAliveSec: number; environment: Record<string, string> }>;
  assert.equal(lsJson[0]!.name, 'hello');
  assert.equal(lsJson[0]!.reservedConcurrency, 4);
  assert.equal(lsJson[0]!.keepAliveSec, 60);
  assert.deepEqual(lsJson[0]!.environment, { A: '1' });

  const routes = await cli(p.url, ['routes']);
  assert.match(routes.stdout, /POST\s+\/hello\s+hello\s+2\.0/);

  let logs = '';
  for (let i = 0; i < 40 && !/greeting y/.test(logs); i++) {
    logs = (await cli(p.url, ['logs', 'hello'])).stdout;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(logs, /START RequestId: \S+ Version: \$LATEST/);
  assert.match(logs, /\tINFO\tgreeting y/);
  assert.match(logs, /REPORT RequestId: /);

  // Redeploying code only keeps the configuration.
  const again = await cli(p.url, ['deploy', fromPackageRoot('examples', 'hello-node'), '--name', 'hello']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /updated hello \(nodejs20\.x, index\.handler, 256 MB, 10 s/);

  const rm = await cli(p.url, ['rm', 'hello']);
  assert.equal(rm.code, 0);
  assert.deepEqual(JSON.parse((await cli(p.url, ['ls', '--json'])).stdout), []);
  assert.match((await cli(p.url, ['ls'])).stdout, /^no functions deployed/);
});

test('logs -f streams new lines as they are written', async () => {
  await cli(p.url, ['deploy', fixture('functions', 'faults'), '--name', 'talker', '--runtime', 'nodejs20.x', '--handler', 'index.handler']);
  const follow = spawn(process.execPath, [CLI, 'logs', 'talker', '-f'], { env: { ...process.env, MODELFN_ENDPOINT: p.url } });
  let out = '';
  follow.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await new Promise((r) => setTimeout(r, 500));
    await cli(p.url, ['invoke', 'talker', '--data', '{"action":"log","lines":1}']);
    for (let i = 0; i < 50 && !/REPORT/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /INFO\tline 0/);
    assert.match(out, /REPORT RequestId/);
  } finally {
    follow.kill();
  }
});

test('errors are clear and exit non-zero', async () => {
  const missing = await cli(p.url, ['invoke', 'nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Function not found/);
  const badJson = await cli(p.url, ['invoke', 'nope', '--data', '{x']);
  assert.notEqual(badJson.code, 0);
  assert.match(badJson.stderr, /payload is not valid JSON/);
  const noPath = await cli(p.url, ['deploy', '/definitely/not/here']);
  assert.match(noPath.stderr, /does not exist/);
  const badFlag = await cli(p.url, ['deploy', fixture('functions', 'echo'), '--memory', 'lots']);
  assert.match(badFlag.stderr, /--memory must be a whole number/);
  const badRoute = await cli(p.url, ['deploy', fixture('functions', 'echo'), '--route', 'nonsense']);
  assert.match(badRoute.stderr, /must look like "POST \/path"/);
  const tooBig = await cli(p.url, ['deploy', fixture('functions', 'echo'), '--name', 'e', '--memory', '99999']);
  assert.notEqual(tooBig.code, 0);
  assert.match(tooBig.stderr, /memoryMb: must be between 128 and 10240 MB/);
  const fnError = await cli(p.url, ['invoke', 'talker', '--data', '{"action":"throw"}']);
  assert.notEqual(fnError.code, 0);
  assert.match(fnError.stdout, /"errorType":"TypeError"/);
  assert.match(fnError.stderr, /function error/);
  const down = await cli('http://127.0.0.1:1', ['ls']);
  assert.notEqual(down.code, 0);
  assert.match(down.stderr, /cannot reach modelfn at http:\/\/127\.0\.0\.1:1/);
});
