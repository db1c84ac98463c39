import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { AddPermissionCommand, GetFunctionCommand, GetPolicyCommand, LambdaClient, ListFunctionsCommand, ListTagsCommand, TagResourceCommand } from '@aws-sdk/client-lambda';
import { readCredentialsFile } from '../../src/auth/credentials-file.js';
import { RequestSigner } from '../../src/cli/signer.js';
import { fromPackageRoot } from '../../src/shared/paths.js';
import { CLI, fixture, startPlatform } from '../support/platform.js';

type Run = { code: number | null; stdout: string; stderr: string };

function cliAs(url: string, env: Record<string, string>, args: string[]): Promise<Run> {
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

/** An access key of `tenant`, made with the platform's admin key, and the environment that signs with it. */
async function newKey(url: string, admin: Record<string, string>, tenant: string) {
  const made = await cliAs(url, admin, ['keys', 'create', '--tenant', tenant, '--json']);
  assert.equal(made.code, 0, made.stderr);
  const key = JSON.parse(made.stdout) as { accessKeyId: string; secretAccessKey: string; tenant: string };
  assert.equal(key.tenant, tenant);
  return { key, env: { MODELFN_ACCESS_KEY_ID: key.accessKeyId, MODELFN_SECRET_ACCESS_KEY: key.secretAccessKey } };
}

test('a key sees and invokes only its tenant\'s functions; admin keys manage keys and see everything', async () => {
  const p = await startPlatform({ auth: true });
  try {
    const admin = { MODELFN_HOME: p.dataDir };
    const a = await newKey(p.url, admin, 'team-a');
    const b = await newKey(p.url, admin, 'team-b');

    assert.equal((await cliAs(p.url, a.env, ['deploy', fixture('functions', 'echo'), '--name', 'a-fn'])).code, 0);
    const bDeploy = await cliAs(p.url, b.env, ['deploy', fixture('functions', 'echo'), '--name', 'b-fn', '--route', 'POST /b-secure', '--route-auth', 'aws_iam']);
    assert.equal(bDeploy.code, 0, bDeploy.stderr);

    const aList = JSON.parse((await cliAs(p.url, a.env, ['ls', '--json'])).stdout) as Array<{ name: string }>;
    assert.deepEqual(aList.map((f) => f.name), ['a-fn']);
    const adminList = JSON.parse((await cliAs(p.url, admin, ['ls', '--json'])).stdout) as Array<{ name: string }>;
    assert.deepEqual(adminList.map((f) => f.name), ['a-fn', 'b-fn']);

    const crossInvoke = await cliAs(p.url, a.env, ['invoke', 'b-fn']);
    assert.notEqual(crossInvoke.code, 0);
    assert.match(crossInvoke.stderr, /Function not found/);
    const crossLogs = await cliAs(p.url, a.env, ['logs', 'b-fn']);
    assert.match(crossLogs.stderr, /does not exist/);
    const takeover = await cliAs(p.url, a.env, ['deploy', fixture('functions', 'echo'), '--name', 'b-fn', '--runtime', 'nodejs20.x', '--handler', 'index.handler']);
    assert.notEqual(takeover.code, 0);
    assert.match(takeover.stderr, /already exist/);
    assert.equal((await cliAs(p.url, b.env, ['invoke', 'b-fn'])).code, 0, 'the owner still runs it');

    const sdk = new LambdaClient({ endpoint: p.url, region: 'us-east-1', credentials: a.key, maxAttempts: 1 });
    assert.deepEqual((await sdk.send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName), ['a-fn']);
    await assert.rejects(sdk.send(new GetFunctionCommand({ FunctionName: 'b-fn' })), (err: any) => err.name === 'ResourceNotFoundException');
    // Tags likewise: another tenant's function is not found, its own tags are its own.
    const bArn = 'arn:aws:lambda:us-east-1:000000000000:function:b-fn';
    await assert.rejects(sdk.send(new TagResourceCommand({ Resource: bArn, Tags: { owner: 'a' } })), (err: any) => err.name === 'ResourceNotFoundException');
    await assert.rejects(sdk.send(new ListTagsCommand({ Resource: bArn })), (err: any) => err.name === 'ResourceNotFoundException');
    await sdk.send(new TagResourceCommand({ Resource: 'arn:aws:lambda:us-east-1:000000000000:function:a-fn', Tags: { owner: 'a' } }));
    assert.deepEqual((await sdk.send(new ListTagsCommand({ Resource: 'arn:aws:lambda:us-east-1:000000000000:function:a-fn' }))).Tags, { owner: 'a' });
    // Resource policies too: another tenant's function has none to read or change.
    await assert.rejects(sdk.send(new AddPermissionCommand({ FunctionName: 'b-fn', StatementId: 'a', Action: 'lambda:InvokeFunction', Principal: '*' })), (err: any) => err.name === 'ResourceNotFoundException');
    await assert.rejects(sdk.send(new GetPolicyCommand({ FunctionName: 'b-fn' })), (err: any) => err.name === 'ResourceNotFoundException');
    await sdk.send(new AddPermissionCommand({ FunctionName: 'a-fn', StatementId: 'a', Action: 'lambda:InvokeFunction', Principal: '*' }));
    assert.match((await sdk.send(new GetPolicyCommand({ FunctionName: 'a-fn' }))).Policy ?? '', /"Sid":"a"/);
    sdk.destroy();

    // A signed route admits only keys of its function's tenant.
    const url = new URL(`${p.url}/b-secure`);
    const body = Buffer.from('{}');
    const asA = await new RequestSigner(a.key, 'us-east-1', 'execute-api').sign('POST', url, {}, body);
    assert.equal((await fetch(url, { method: 'POST', body, headers: asA })).status, 404);
    const asB = await new RequestSigner(b.key, 'us-east-1', 'execute-api').sign('POST', url, {}, body);
    assert.equal((await fetch(url, { method: 'POST', body, headers: asB })).status, 200);

    // Queues and usage are scoped the same way.
    assert.equal((await cliAs(p.url, a.env, ['queue', 'create', 'qa'])).code, 0);
    const bQueues = JSON.parse((await cliAs(p.url, b.env, ['queue', 'ls', '--json'])).stdout) as Array<{ name: string }>;
    assert.deepEqual(bQueues.map((q) => q.name), []);
    const bSend = await cliAs(p.url, b.env, ['queue', 'send', 'qa', 'hello']);
    assert.notEqual(bSend.code, 0);
    assert.match(bSend.stderr, /queue qa does not exist/);
    const bTake = await cliAs(p.url, b.env, ['queue', 'create', 'qa']);
    assert.match(bTake.stderr, /queue qa already exists/);
    assert.equal((await cliAs(p.url, a.env, ['invoke', 'a-fn'])).code, 0);
    const aCost = JSON.parse((await cliAs(p.url, a.env, ['cost', '--json'])).stdout) as { functions: Array<{ functionName: string }> };
    assert.ok(aCost.functions.every((f) => f.functionName === 'a-fn'), JSON.stringify(aCost.functions.map((f) => f.functionName)));

    const notAdmin = await cliAs(p.url, a.env, ['keys', 'ls']);
    assert.notEqual(notAdmin.code, 0);
    assert.match(notAdmin.stderr, /only an admin key manages access keys/);
    const listed = await cliAs(p.url, admin, ['keys', 'ls', '--json']);
    const keys = JSON.parse(listed.stdout) as Array<{ accessKeyId: string; secretAccessKey?: string }>;
    assert.ok(keys.length >= 3);
    assert.ok(keys.every((k) => k.secretAccessKey === undefined), 'secrets are never listed');

    assert.equal((await cliAs(p.url, admin, ['keys', 'revoke', b.key.accessKeyId])).code, 0);
    const revoked = await cliAs(p.url, b.env, ['ls']);
    assert.notEqual(revoked.code, 0);
    assert.match(revoked.stderr, /security token included in the request is invalid/);

    const owner = (await readCredentialsFile(join(p.dataDir, 'credentials')))!;
    const last = await cliAs(p.url, admin, ['keys', 'revoke', owner.accessKeyId]);
    assert.notEqual(last.code, 0);
    assert.match(last.stderr, /last admin key/);
    const badTenant = await cliAs(p.url, admin, ['keys', 'create', '--tenant', 'Not Valid']);
    assert.match(badTenant.stderr, /tenant: must be 1-63 lowercase letters/);
  } finally {
    await p.cleanup();
  }
});

test('model endpoints (OIP, KServe V1): a key finds only its own tenant\'s models, signed inference after signed inference', async () => {
  const p = await startPlatform({ auth: true });
  try {
    const admin = { MODELFN_HOME: p.dataDir };
    const ownerKey = await newKey(p.url, admin, 'team-m');
    const owner = ownerKey.key;
    const other = (await newKey(p.url, admin, 'team-o')).key;
    const deployed = await cliAs(p.url, ownerKey.env, ['deploy', fromPackageRoot('examples', 'iris-joblib', 'model.joblib')]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const as = async (key: { accessKeyId: string; secretAccessKey: string }, method: string, path: string, body?: string) => {
      const url = new URL(path, p.url);
      const bytes = body === undefined ? undefined : Buffer.from(body);
      const headers = await new RequestSigner(key, 'us-east-1', 'lambda').sign(method, url, { 'content-type': 'application/json' }, bytes);
      const res = await fetch(url, { method, body: bytes, headers: { 'content-type': 'application/json', ...headers } });
      return { status: res.status, text: await res.text() };
    };
    const infer = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2] }] });
    const predict = JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] });
    // Several rounds, the owner's and the other tenant's calls at once: each is answered as its own caller.
    for (let round = 0; round < 3; round++) {
      const [mine, theirs, mineV1, theirsV1, theirsMeta, theirsStats] = await Promise.all([
        as(owner, 'POST', '/v2/models/iris-joblib/infer', infer),
        as(other, 'POST', '/v2/models/iris-joblib/infer', infer),
        as(owner, 'POST', '/v1/models/iris-joblib:predict', predict),
        as(other, 'POST', '/v1/models/iris-joblib:predict', predict),
        as(other, 'GET', '/v2/models/iris-joblib'),
        as(other, 'GET', '/v2/models/stats'),
      ]);
      assert.equal(mine.status, 200, mine.text);
      assert.equal(mineV1.status, 200, mineV1.text);
      assert.equal(theirs.status, 404, theirs.text);
      assert.equal(theirsV1.status, 404, theirsV1.text);
      assert.equal(theirsMeta.status, 404, theirsMeta.text);
      assert.equal(theirsStats.status, 200, theirsStats.text);
      assert.ok(!theirsStats.text.includes('iris-joblib'), theirsStats.text);
    }
    const ownStats = await as(owner, 'GET', '/v2/models/stats');
    assert.ok(ownStats.text.includes('iris-joblib'), ownStats.text);
  } finally {
    await p.cleanup();
  }
});

test('the dashboard\'s live stream shows a tenant\'s key only its own functions', async () => {
  const p = await startPlatform({ auth: true });
  try {
    const admin = { MODELFN_HOME: p.dataDir };
    const a = await newKey(p.url, admin, 'team-live-a');
    const b = await newKey(p.url, admin, 'team-live-b');
    const login = await fetch(`${p.url}/ui/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(a.key) });
    assert.equal(login.status, 200, await login.clone().text());
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const stream = new AbortController();
    const res = await fetch(`${p.url}/ui/api/events`, { headers: { cookie }, signal: stream.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = '';
    const until = async (what: RegExp, ms: number) => {
      const deadline = Date.now() + ms;
      while (!what.test(text)) {
        const left = deadline - Date.now();
        if (left <= 0) assert.fail(`the stream did not show ${what} in ${ms} ms:\n${text}`);
        const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(() => r(undefined), left))]);
        if (chunk === undefined || chunk.done) continue;
        text += Buffer.from(chunk.value).toString();
      }
    };
    try {
      // Another tenant's deploy and calls first, then this tenant's: the stream shows only these.
      assert.equal((await cliAs(p.url, b.env, ['deploy', fixture('functions', 'echo'), '--name', 'live-b'])).code, 0);
      assert.equal((await cliAs(p.url, b.env, ['invoke', 'live-b'])).code, 0);
      assert.equal((await cliAs(p.url, a.env, ['deploy', fixture('functions', 'echo'), '--name', 'live-a'])).code, 0);
      assert.equal((await cliAs(p.url, a.env, ['invoke', 'live-a'])).code, 0);
      await until(/event: functions\ndata: \{"name":"live-a"/, 20_000);
      await until(/event: tick\ndata: [^\n]*"live-a"/, 20_000);
      assert.doesNotMatch(text, /live-b/, 'nothing of the other tenant');
    } finally {
      stream.abort();
    }
  } finally {
    await p.cleanup();
  }
});
