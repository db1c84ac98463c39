import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipDirectory } from '../../src/artifacts/zip-directory.js';
import { need, requirements } from '../support/requirements.js';
import { removeTree, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';

const AWS = process.env.MODELFN_TEST_AWS ?? '/usr/bin/aws';

let p: RunningPlatform | undefined;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'modelfn-awscli-'));
});

after(async () => {
  await p?.cleanup();
  await removeTree(work);
});

/** Run the real AWS CLI v2 against the platform with the credentials file it wrote. */
function aws(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      AWS,
      ['--profile', 'modelfn', '--endpoint-url', p!.url, '--output', 'json', ...args],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: work,
          AWS_SHARED_CREDENTIALS_FILE: join(p!.dataDir, 'credentials'),
          AWS_CONFIG_FILE: join(p!.dataDir, 'aws-config'),
          AWS_PAGER: '',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function code(version: string): Promise<string> {
  const dir = join(work, `src-${version}`);
  await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
  await writeFile(join(dir, 'index.js'), `exports.handler = async (event, context) => ({ version: '${version}', fnVersion: context.functionVersion, event });\n`);
  const zip = join(work, `${version}.zip`);
  await writeFile(zip, await zipDirectory(dir));
  return zip;
}

test('the AWS CLI v2 runs create -> invoke -> update -> publish -> alias -> invoke alias -> tags -> delete', async (t) => {
  if (!need(t, requirements.awscli)) return;
  p = await startPlatform({ auth: true });
  const created = await aws(['lambda', 'create-function', '--function-name', 'cli-fn', '--runtime', 'nodejs20.x', '--role', 'arn:aws:iam::000000000000:role/r', '--handler', 'index.handler', '--zip-file', `fileb://${await code('v1')}`]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(JSON.parse(created.stdout).FunctionName, 'cli-fn');

  const out = join(work, 'out.json');
  const invoked = await aws(['lambda', 'invoke', '--function-name', 'cli-fn', '--cli-binary-format', 'raw-in-base64-out', '--payload', '{"hello":"cli"}', out]);
  assert.equal(invoked.code, 0, invoked.stderr);
  assert.equal(JSON.parse(invoked.stdout).StatusCode, 200);
  const result = JSON.parse(await readFile(out, 'utf8'));
  assert.deepEqual(result, { version: 'v1', fnVersion: '$LATEST', event: { hello: 'cli' } });

  const updated = await aws(['lambda', 'update-function-code', '--function-name', 'cli-fn', '--zip-file', `fileb://${await code('v2')}`]);
  assert.equal(updated.code, 0, updated.stderr);
  const published = await aws(['lambda', 'publish-version', '--function-name', 'cli-fn']);
  assert.equal(published.code, 0, published.stderr);
  assert.equal(JSON.parse(published.stdout).Version, '1');
  const alias = await aws(['lambda', 'create-alias', '--function-name', 'cli-fn', '--name', 'prod', '--function-version', '1']);
  assert.equal(alias.code, 0, alias.stderr);

  await aws(['lambda', 'update-function-code', '--function-name', 'cli-fn', '--zip-file', `fileb://${await code('v3')}`]);
  const viaAlias = await aws(['lambda', 'invoke', '--function-name', 'cli-fn', '--qualifier', 'prod', out]);
  assert.equal(viaAlias.code, 0, viaAlias.stderr);
  assert.equal(JSON.parse(viaAlias.stdout).ExecutedVersion, '1');
  assert.equal(JSON.parse(await readFile(out, 'utf8')).version, 'v2');

  const list = await aws(['lambda', 'list-functions']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout).Functions.map((f: { FunctionName: string }) => f.FunctionName), ['cli-fn']);
  const tail = await aws(['lambda', 'invoke', '--function-name', 'cli-fn', '--log-type', 'Tail', out]);
  assert.match(Buffer.from(JSON.parse(tail.stdout).LogResult, 'base64').toString(), /REPORT RequestId/);

  // Tags: on the function's ARN, kept across configuration changes, shown by GetFunction.
  const arn = 'arn:aws:lambda:us-east-1:000000000000:function:cli-fn';
  const tagged = await aws(['lambda', 'tag-resource', '--resource', arn, '--tags', 'team=ml,owner=me@example.com']);
  assert.equal(tagged.code, 0, tagged.stderr);
  const untagged = await aws(['lambda', 'untag-resource', '--resource', arn, '--tag-keys', 'owner']);
  assert.equal(untagged.code, 0, untagged.stderr);
  await aws(['lambda', 'update-function-configuration', '--function-name', 'cli-fn', '--timeout', '9']);
  assert.deepEqual(JSON.parse((await aws(['lambda', 'list-tags', '--resource', arn])).stdout), { Tags: { team: 'ml' } });
  assert.deepEqual(JSON.parse((await aws(['lambda', 'get-function', '--function-name', 'cli-fn'])).stdout).Tags, { team: 'ml' });
  const ofVersion = await aws(['lambda', 'list-tags', '--resource', `${arn}:1`]);
  assert.match(ofVersion.stderr, /InvalidParameterValueException.*not to a version or alias/);
  const reserved = await aws(['lambda', 'tag-resource', '--resource', arn, '--tags', 'aws:owner=x']);
  assert.match(reserved.stderr, /InvalidParameterValueException.*reserved/);
  const withTags = await aws(['lambda', 'create-function', '--function-name', 'cli-tagged', '--runtime', 'nodejs20.x', '--role', 'arn:aws:iam::000000000000:role/r', '--handler', 'index.handler', '--zip-file', `fileb://${await code('v1')}`, '--tags', '{"cost center":"r and d"}']);
  assert.equal(withTags.code, 0, withTags.stderr);
  assert.deepEqual(JSON.parse((await aws(['lambda', 'list-tags', '--resource', 'arn:aws:lambda:us-east-1:000000000000:function:cli-tagged'])).stdout), { Tags: { 'cost center': 'r and d' } });
  assert.equal((await aws(['lambda', 'delete-function', '--function-name', 'cli-tagged'])).code, 0);

  const inUse = await aws(['lambda', 'delete-function', '--function-name', 'cli-fn', '--qualifier', '1']);
  assert.notEqual(inUse.code, 0);
  assert.match(inUse.stderr, /ResourceConflictException/);
  const deleted = await aws(['lambda', 'delete-function', '--function-name', 'cli-fn']);
  assert.equal(deleted.code, 0, deleted.stderr);
  const gone = await aws(['lambda', 'get-function', '--function-name', 'cli-fn']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /ResourceNotFoundException/);
});

/** A platform (the first test's, or a new one) with a new Node.js function; its --function-name arguments. */
async function freshFunction(name: string): Promise<string[]> {
  p ??= await startPlatform({ auth: true });
  const fn = ['--function-name', name];
  const created = await aws(['lambda', 'create-function', ...fn, '--runtime', 'nodejs20.x', '--role', 'arn:aws:iam::000000000000:role/r', '--handler', 'index.handler', '--zip-file', `fileb://${await code('v1')}`]);
  assert.equal(created.code, 0, created.stderr);
  return fn;
}

test('the AWS CLI v2 manages resource policies: add-permission, get-policy, remove-permission, per alias, with Lambda errors', async (t) => {
  if (!need(t, requirements.awscli)) return;
  const fn = await freshFunction('cli-policy');
  const none = await aws(['lambda', 'get-policy', ...fn]);
  assert.match(none.stderr, /ResourceNotFoundException/);

  const s3 = await aws(['lambda', 'add-permission', ...fn, '--statement-id', 's3-invoke', '--action', 'lambda:InvokeFunction', '--principal', 's3.amazonaws.com', '--source-arn', 'arn:aws:s3:::uploads', '--source-account', '123456789012']);
  assert.equal(s3.code, 0, s3.stderr);
  const arn = 'arn:aws:lambda:us-east-1:000000000000:function:cli-policy';
  assert.deepEqual(JSON.parse(JSON.parse(s3.stdout).Statement), {
    Sid: 's3-invoke',
    Effect: 'Allow',
    Principal: { Service: 's3.amazonaws.com' },
    Action: 'lambda:InvokeFunction',
    Resource: arn,
    Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' }, ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::uploads' } },
  });
  const url = await aws(['lambda', 'add-permission', ...fn, '--statement-id', 'FunctionURLAllowPublicAccess', '--action', 'lambda:InvokeFunctionUrl', '--principal', '*', '--function-url-auth-type', 'NONE']);
  assert.equal(url.code, 0, url.stderr);
  const again = await aws(['lambda', 'add-permission', ...fn, '--statement-id', 's3-invoke', '--action', 'lambda:InvokeFunction', '--principal', '111122223333']);
  assert.match(again.stderr, /ResourceConflictException.*already exists/);
  const badPrincipal = await aws(['lambda', 'add-permission', ...fn, '--statement-id', 'x', '--action', 'lambda:InvokeFunction', '--principal', 'not-a principal']);
  assert.match(badPrincipal.stderr, /InvalidParameterValueException.*principal/);

  const got = JSON.parse((await aws(['lambda', 'get-policy', ...fn])).stdout) as { Policy: string; RevisionId: string };
  const policy = JSON.parse(got.Policy) as { Version: string; Statement: Array<{ Sid: string; Principal: unknown }> };
  assert.equal(policy.Version, '2012-10-17');
  assert.deepEqual(policy.Statement.map((s) => [s.Sid, s.Principal]), [['s3-invoke', { Service: 's3.amazonaws.com' }], ['FunctionURLAllowPublicAccess', '*']]);
  const stale = await aws(['lambda', 'remove-permission', ...fn, '--statement-id', 's3-invoke', '--revision-id', 'not-the-revision']);
  assert.match(stale.stderr, /PreconditionFailedException/);
  const removed = await aws(['lambda', 'remove-permission', ...fn, '--statement-id', 's3-invoke', '--revision-id', got.RevisionId]);
  assert.equal(removed.code, 0, removed.stderr);
  const missing = await aws(['lambda', 'remove-permission', ...fn, '--statement-id', 's3-invoke']);
  assert.match(missing.stderr, /ResourceNotFoundException.*not found in resource policy/);
  assert.deepEqual(JSON.parse(JSON.parse((await aws(['lambda', 'get-policy', ...fn])).stdout).Policy).Statement.map((s: { Sid: string }) => s.Sid), ['FunctionURLAllowPublicAccess']);

  // An alias has a policy of its own, and takes it along when it is deleted.
  assert.equal((await aws(['lambda', 'publish-version', ...fn])).code, 0);
  assert.equal((await aws(['lambda', 'create-alias', ...fn, '--name', 'live', '--function-version', '1'])).code, 0);
  const onAlias = await aws(['lambda', 'add-permission', '--function-name', 'cli-policy:live', '--statement-id', 'events', '--action', 'lambda:InvokeFunction', '--principal', 'events.amazonaws.com']);
  assert.equal(onAlias.code, 0, onAlias.stderr);
  assert.equal(JSON.parse(JSON.parse(onAlias.stdout).Statement).Resource, `${arn}:live`);
  assert.deepEqual(JSON.parse(JSON.parse((await aws(['lambda', 'get-policy', ...fn, '--qualifier', 'live'])).stdout).Policy).Statement.map((s: { Sid: string }) => s.Sid), ['events']);
  assert.equal((await aws(['lambda', 'delete-alias', ...fn, '--name', 'live'])).code, 0);
  assert.equal((await aws(['lambda', 'create-alias', ...fn, '--name', 'live', '--function-version', '1'])).code, 0);
  assert.match((await aws(['lambda', 'get-policy', ...fn, '--qualifier', 'live'])).stderr, /ResourceNotFoundException/);
  assert.match((await aws(['lambda', 'add-permission', ...fn, '--qualifier', 'gone', '--statement-id', 'x', '--action', 'lambda:InvokeFunction', '--principal', '*'])).stderr, /ResourceNotFoundException.*cli-policy:gone/);
  assert.equal((await aws(['lambda', 'delete-function', ...fn])).code, 0);
});

test('the AWS CLI v2 reads the code signing and runtime management settings every function has here, is refused a change, and is told layers are not supported', async (t) => {
  if (!need(t, requirements.awscli)) return;
  const fn = await freshFunction('cli-settings');
  assert.deepEqual(JSON.parse((await aws(['lambda', 'get-function-code-signing-config', ...fn])).stdout), { CodeSigningConfigArn: '', FunctionName: 'cli-settings' });
  const sign = await aws(['lambda', 'put-function-code-signing-config', ...fn, '--code-signing-config-arn', 'arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdefg']);
  assert.match(sign.stderr, /CodeSigningConfigNotFoundException/);
  assert.equal((await aws(['lambda', 'delete-function-code-signing-config', ...fn])).code, 0);
  assert.deepEqual(JSON.parse((await aws(['lambda', 'get-runtime-management-config', ...fn])).stdout), { UpdateRuntimeOn: 'Auto' });
  const auto = await aws(['lambda', 'put-runtime-management-config', ...fn, '--update-runtime-on', 'Auto']);
  assert.equal(JSON.parse(auto.stdout).FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:cli-settings');
  assert.match((await aws(['lambda', 'put-runtime-management-config', ...fn, '--update-runtime-on', 'FunctionUpdate'])).stderr, /InvalidParameterValueException.*host's interpreter/);
  assert.match((await aws(['lambda', 'get-function-code-signing-config', '--function-name', 'nope'])).stderr, /ResourceNotFoundException/);
  assert.match((await aws(['lambda', 'get-runtime-management-config', ...fn, '--qualifier', '7'])).stderr, /ResourceNotFoundException.*cli-settings:7/);
  // Layers are not supported: the layer operations say so, each in its own terms.
  assert.deepEqual(JSON.parse((await aws(['lambda', 'list-layers'])).stdout), { Layers: [] });
  assert.match((await aws(['lambda', 'publish-layer-version', '--layer-name', 'deps', '--zip-file', `fileb://${await code('layer')}`])).stderr, /InvalidParameterValueException.*layers are not supported.*zip/);
  assert.match((await aws(['lambda', 'get-layer-version', '--layer-name', 'deps', '--version-number', '1'])).stderr, /ResourceNotFoundException.*layer:deps:1 does not exist/);
  assert.equal((await aws(['lambda', 'delete-function', ...fn])).code, 0);
});
