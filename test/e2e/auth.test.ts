import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readCredentialsFile } from '../../src/auth/credentials-file.js';
import { RequestSigner } from '../../src/cli/signer.js';
import { CLI, fixture, startPlatform } from '../support/platform.js';
import { fromPackageRoot } from '../../src/shared/paths.js';

function cliAs(url: string, env: Record<string, string>, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MODELFN_')));
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...clean, MODELFN_ENDPOINT: url, ...env } });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('first start writes owner-only AWS credentials; the CLI signs with them; signed routes need a signature', async () => {
  const p = await startPlatform({ auth: true });
  try {
    const file = join(p.dataDir, 'credentials');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(p.dataDir, 'aws-config'))).mode & 0o777, 0o600);
    const credentials = (await readCredentialsFile(file))!;
    assert.match(credentials.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(credentials.secretAccessKey.length, 40);

    const asOwner = { MODELFN_HOME: p.dataDir };
    const open = await cliAs(p.url, asOwner, ['deploy', fixture('functions', 'echo'), '--name', 'open', '--route', 'POST /open']);
    assert.equal(open.code, 0, open.stderr);
    const secure = await cliAs(p.url, asOwner, ['deploy', fixture('functions', 'echo'), '--name', 'secure', '--route', 'POST /secure', '--route-auth', 'aws_iam']);
    assert.equal(secure.code, 0, secure.stderr);
    assert.equal((await cliAs(p.url, asOwner, ['invoke', 'open', '--data', '{"a":1}'])).code, 0);

    assert.equal((await fetch(`${p.url}/open`, { method: 'POST', body: '{}' })).status, 200, 'routes stay public by default');
    const unsigned = await fetch(`${p.url}/secure`, { method: 'POST', body: '{}' });
    assert.equal(unsigned.status, 403);
    assert.equal(((await unsigned.json()) as { code: string }).code, 'MISSING_AUTHENTICATION');
    const url = new URL(`${p.url}/secure`);
    const body = Buffer.from('{"signed":true}');
    const headers = await new RequestSigner(credentials, 'us-east-1', 'execute-api').sign('POST', url, { 'content-type': 'application/json' }, body);
    const signed = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    assert.equal(signed.status, 200);

    const stranger = await cliAs(p.url, { MODELFN_HOME: '/nonexistent' }, ['ls']);
    assert.notEqual(stranger.code, 0);
    assert.match(stranger.stderr, /requires signed requests/);
    const wrong = await cliAs(p.url, { MODELFN_ACCESS_KEY_ID: credentials.accessKeyId, MODELFN_SECRET_ACCESS_KEY: 'not-the-secret' }, ['ls']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /signature we calculated does not match/);
    const byEnv = await cliAs(p.url, { MODELFN_ACCESS_KEY_ID: credentials.accessKeyId, MODELFN_SECRET_ACCESS_KEY: credentials.secretAccessKey }, ['ls', '--json']);
    assert.equal(byEnv.code, 0, byEnv.stderr);
    assert.deepEqual((JSON.parse(byEnv.stdout) as Array<{ name: string }>).map((f) => f.name), ['open', 'secure']);
  } finally {
    await p.cleanup();
  }
});

test('a restart keeps the same keys; keys from the environment work too', async () => {
  const p = await startPlatform({ auth: true, env: { MODELFN_ACCESS_KEY_ID: 'AKIAENVIRONMENTKEY00', MODELFN_SECRET_ACCESS_KEY: 'environment-secret' } });
  try {
    const url = new URL(`${p.url}/_modelfn/v1/functions`);
    const headers = await new RequestSigner({ accessKeyId: 'AKIAENVIRONMENTKEY00', secretAccessKey: 'environment-secret' }, 'us-east-1').sign('GET', url, {}, undefined);
    assert.equal((await fetch(url, { headers })).status, 200);
    const before = await readCredentialsFile(join(p.dataDir, 'credentials'));
    await p.stop();
    const again = await startPlatform({ auth: true, dataDir: p.dataDir });
    try {
      assert.deepEqual(await readCredentialsFile(join(p.dataDir, 'credentials')), before);
      const next = new URL('/_modelfn/v1/functions', again.url);
      const signed = await new RequestSigner(before!, 'us-east-1').sign('GET', next, {}, undefined);
      assert.equal((await fetch(next, { headers: signed })).status, 200);
    } finally {
      await again.cleanup();
    }
  } finally {
    await p.cleanup();
  }
});

test('model inference over OIP and V1 needs a signature when the platform has auth; health stays public', async () => {
  const p = await startPlatform({ auth: true });
  try {
    const asOwner = { MODELFN_HOME: p.dataDir };
    const deployed = await cliAs(p.url, asOwner, ['deploy', fromPackageRoot('examples', 'iris-joblib', 'model.joblib')]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /iris-joblib/, 'a model file called "model" takes its folder\'s name');
    const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2] }] });
    const unsigned = await fetch(`${p.url}/v2/models/iris-joblib/infer`, { method: 'POST', body });
    assert.equal(unsigned.status, 403);
    assert.match(((await unsigned.json()) as { error: string }).error, /Missing Authentication Token/);
    assert.equal((await fetch(`${p.url}/v1/models/iris-joblib`)).status, 403);
    assert.equal((await fetch(`${p.url}/v2/health/ready`)).status, 200);
    const credentials = (await readCredentialsFile(join(p.dataDir, 'credentials')))!;
    const url = new URL(`${p.url}/v2/models/iris-joblib/infer`);
    const headers = await new RequestSigner(credentials, 'us-east-1', 'lambda').sign('POST', url, { 'content-type': 'application/json' }, Buffer.from(body));
    const signed = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    assert.equal(signed.status, 200, await signed.clone().text());
    assert.equal(((await signed.json()) as { model_name: string }).model_name, 'iris-joblib');
  } finally {
    await p.cleanup();
  }
});
