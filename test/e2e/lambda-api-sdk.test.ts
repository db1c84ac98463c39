import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { readCredentialsFile } from '../../src/auth/credentials-file.js';
import { zipDirectory } from '../../src/artifacts/zip-directory.js';
import { eventually, fixture, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeTree } from '../support/platform.js';

let p: RunningPlatform;
let lambda: LambdaClient;
let codeDir: string;

const decode = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? new Uint8Array()).toString()) as any;

async function zipOf(version: string): Promise<Buffer> {
  await writeFile(join(codeDir, 'index.js'), `exports.handler = async (event, context) => ({ version: '${version}', fnVersion: context.functionVersion, arn: context.invokedFunctionArn, event });\n`);
  return zipDirectory(codeDir);
}

before(async () => {
  p = await startPlatform({ auth: true });
  const credentials = await readCredentialsFile(join(p.dataDir, 'credentials'));
  assert.ok(credentials, 'the platform wrote its admin credentials');
  lambda = new LambdaClient({ endpoint: p.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  codeDir = await mkdtemp(join(tmpdir(), 'modelfn-sdk-'));
});

after(async () => {
  lambda?.destroy();
  await p.cleanup();
  await removeTree(codeDir);
});

test('the AWS SDK runs create -> invoke -> update -> publish -> alias -> invoke alias -> delete', async () => {
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'sdk-fn',
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::000000000000:role/whatever',
      Handler: 'index.handler',
      Code: { ZipFile: await zipOf('v1') },
      MemorySize: 256,
      Timeout: 5,
      Environment: { Variables: { STAGE: 'test' } },
      Description: 'made by the SDK',
    }),
  );
  assert.equal(created.FunctionName, 'sdk-fn');
  assert.equal(created.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-fn');
  assert.equal(created.State, 'Active');
  assert.equal(created.LastUpdateStatus, 'Successful');
  assert.equal(created.Version, '$LATEST');
  assert.equal(created.MemorySize, 256);
  assert.equal(created.Role, 'arn:aws:iam::000000000000:role/whatever');
  assert.match(created.CodeSha256!, /^[A-Za-z0-9+/]{43}=$/);
  assert.match(created.LastModified!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
  assert.deepEqual(created.Environment?.Variables, { STAGE: 'test' });

  const first = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-fn', Payload: Buffer.from('{"n":1}'), LogType: 'Tail' }));
  assert.equal(first.StatusCode, 200);
  assert.equal(first.ExecutedVersion, '$LATEST');
  assert.equal(decode(first.Payload).version, 'v1');
  assert.match(Buffer.from(first.LogResult!, 'base64').toString(), /REPORT RequestId/);

  const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'sdk-fn', ZipFile: await zipOf('v2') }));
  assert.notEqual(updated.CodeSha256, created.CodeSha256);
  assert.equal(decode((await lambda.send(new InvokeCommand({ FunctionName: 'sdk-fn' }))).Payload).version, 'v2');

  const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: 'sdk-fn', Description: 'first' }));
  assert.equal(v1.Version, '1');
  assert.equal(v1.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-fn:1');
  const again = await lambda.send(new PublishVersionCommand({ FunctionName: 'sdk-fn' }));
  assert.equal(again.Version, '1', 'publishing unchanged code returns the existing version');

  const resized = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-fn', Timeout: 7, Environment: { Variables: { STAGE: 'two' } }, EphemeralStorage: { Size: 1024 } }));
  assert.equal(resized.EphemeralStorage?.Size, 1024, 'the size of the sandbox\'s /tmp');
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'sdk-fn', ZipFile: await zipOf('v3') }));
  const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'sdk-fn' }));
  assert.equal(v2.Version, '2');
  assert.equal(v2.Timeout, 7);

  const alias = await lambda.send(new CreateAliasCommand({ FunctionName: 'sdk-fn', Name: 'live', FunctionVersion: '1', Description: 'prod' }));
  assert.equal(alias.AliasArn, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-fn:live');
  const viaAlias = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-fn', Qualifier: 'live' }));
  assert.equal(viaAlias.ExecutedVersion, '1');
  const body = decode(viaAlias.Payload);
  assert.equal(body.version, 'v2');
  assert.equal(body.fnVersion, '1');
  assert.equal(body.arn, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-fn:live');
  const byNameQualifier = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-fn:2' }));
  assert.equal(decode(byNameQualifier.Payload).version, 'v3');
  const byArn = await lambda.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:sdk-fn:live' }));
  assert.equal(byArn.ExecutedVersion, '1');

  const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'sdk-fn' }));
  assert.deepEqual(versions.Versions?.map((v) => v.Version), ['$LATEST', '1', '2']);
  const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'sdk-fn', Qualifier: '1' }));
  assert.equal(config.Version, '1');
  assert.equal(config.EphemeralStorage?.Size, 512);
  const fn = await lambda.send(new GetFunctionCommand({ FunctionName: 'sdk-fn' }));
  assert.equal(fn.Configuration?.EphemeralStorage?.Size, 1024);
  assert.equal(fn.Configuration?.Version, '$LATEST');
  const download = await fetch(fn.Code!.Location!);
  assert.equal(download.status, 200);
  assert.equal(download.headers.get('content-type'), 'application/zip');

  await assert.rejects(lambda.send(new DeleteFunctionCommand({ FunctionName: 'sdk-fn', Qualifier: '1' })), (err: any) => {
    assert.equal(err.name, 'ResourceConflictException');
    assert.equal(err.$metadata.httpStatusCode, 409);
    return true;
  });
  await lambda.send(new DeleteAliasCommand({ FunctionName: 'sdk-fn', Name: 'live' }));
  await lambda.send(new DeleteFunctionCommand({ FunctionName: 'sdk-fn', Qualifier: '1' }));
  await lambda.send(new DeleteFunctionCommand({ FunctionName: 'sdk-fn' }));
  await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: 'sdk-fn' })), (err: any) => err.name === 'ResourceNotFoundException' && err.$metadata.httpStatusCode === 404);
});

test('a weighted alias splits calls by its weight and reports the executed version', async () => {
  await lambda.send(new CreateFunctionCommand({ FunctionName: 'split', Runtime: 'nodejs20.x', Role: 'r', Handler: 'index.handler', Code: { ZipFile: await zipOf('a') } }));
  await lambda.send(new PublishVersionCommand({ FunctionName: 'split' }));
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'split', ZipFile: await zipOf('b') }));
  await lambda.send(new PublishVersionCommand({ FunctionName: 'split' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: 'split', Name: 'canary', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }));
  const got = await lambda.send(new GetAliasCommand({ FunctionName: 'split', Name: 'canary' }));
  assert.deepEqual(got.RoutingConfig?.AdditionalVersionWeights, { '2': 0.1 });
  let toTwo = 0;
  const calls = 2000;
  for (let i = 0; i < calls; i += 50) {
    const results = await Promise.all(Array.from({ length: 50 }, () => lambda.send(new InvokeCommand({ FunctionName: 'split', Qualifier: 'canary' }))));
    for (const r of results) {
      const version = decode(r.Payload).version;
      assert.equal(r.ExecutedVersion, version === 'a' ? '1' : '2');
      if (r.ExecutedVersion === '2') toTwo++;
    }
  }
  const share = toTwo / calls;
  assert.ok(share >= 0.07 && share <= 0.13, `a 10 % weight got ${(share * 100).toFixed(1)} % of ${calls} calls`);
  await lambda.send(new UpdateAliasCommand({ FunctionName: 'split', Name: 'canary', RoutingConfig: { AdditionalVersionWeights: {} } }));
  const aliases = await lambda.send(new ListAliasesCommand({ FunctionName: 'split' }));
  assert.equal(aliases.Aliases?.[0]?.RoutingConfig, undefined);
  await assert.rejects(
    lambda.send(new UpdateAliasCommand({ FunctionName: 'split', Name: 'canary', RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } } })),
    (err: any) => err.name === 'InvalidParameterValueException' && /between 0\.0 and 1\.0/.test(err.message),
  );
});

test('reserved and provisioned concurrency, function URLs, account settings, list paging', async () => {
  await lambda.send(new CreateFunctionCommand({ FunctionName: 'conc', Runtime: 'nodejs20.x', Role: 'r', Handler: 'index.handler', Code: { ZipFile: await zipDirectory(fixture('functions', 'echo')) } }));
  const reserved = await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'conc', ReservedConcurrentExecutions: 3 }));
  assert.equal(reserved.ReservedConcurrentExecutions, 3);
  assert.equal((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'conc' }))).ReservedConcurrentExecutions, 3);
  await lambda.send(new PublishVersionCommand({ FunctionName: 'conc' }));
  await assert.rejects(
    lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'conc', Qualifier: '1', ProvisionedConcurrentExecutions: 4 })),
    (err: any) => err.name === 'InvalidParameterValueException',
  );
  await assert.rejects(
    lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'conc', Qualifier: '$LATEST', ProvisionedConcurrentExecutions: 1 })),
    (err: any) => err.name === 'InvalidParameterValueException',
  );
  const put = await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'conc', Qualifier: '1', ProvisionedConcurrentExecutions: 2 }));
  assert.equal(put.RequestedProvisionedConcurrentExecutions, 2);
  const ready = await eventually(async () => {
    const status = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'conc', Qualifier: '1' }));
    return status.Status === 'READY' ? status : undefined;
  }, 15_000, 'provisioned concurrency READY');
  assert.equal(ready.AvailableProvisionedConcurrentExecutions, 2);
  // The warm instances serve without a cold start.
  const warm = await lambda.send(new InvokeCommand({ FunctionName: 'conc', Qualifier: '1', LogType: 'Tail' }));
  assert.doesNotMatch(Buffer.from(warm.LogResult!, 'base64').toString(), /Init Duration/);
  await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'conc' }));
  assert.equal((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'conc' }))).ReservedConcurrentExecutions, undefined);

  const url = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'conc', AuthType: 'NONE' }));
  assert.match(url.FunctionUrl!, /^http:\/\/127\.0\.0\.1:\d+\/lambda-url\/[a-z0-9]{32}\/$/);
  const viaUrl = await fetch(`${url.FunctionUrl}some/path?x=1`, { method: 'POST', body: '{"hi":1}' });
  assert.equal(viaUrl.status, 200);
  const event = ((await viaUrl.json()) as { event: any }).event;
  assert.equal(event.version, '2.0');
  assert.equal(event.rawPath, '/some/path');
  assert.equal(event.routeKey, '$default');
  assert.equal(event.body, '{"hi":1}');

  const settings = await lambda.send(new GetAccountSettingsCommand({}));
  assert.equal(settings.AccountLimit?.ConcurrentExecutions, 1000);
  assert.ok((settings.AccountUsage?.FunctionCount ?? 0) >= 1);

  for (let i = 0; i < 3; i++) {
    await lambda.send(new CreateFunctionCommand({ FunctionName: `page-${i}`, Runtime: 'nodejs20.x', Role: 'r', Handler: 'index.handler', Code: { ZipFile: await zipOf('p') } }));
  }
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const pageResult = await lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker: marker }));
    assert.ok((pageResult.Functions?.length ?? 0) <= 2);
    names.push(...(pageResult.Functions ?? []).map((f) => f.FunctionName!));
    marker = pageResult.NextMarker;
  } while (marker);
  assert.deepEqual(names.filter((n) => n.startsWith('page-')), ['page-0', 'page-1', 'page-2']);
  assert.deepEqual(names, [...names].sort());
});

test('errors come back as the SDK expects them', async () => {
  await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'nope' })), (err: any) => err.name === 'ResourceNotFoundException');
  await assert.rejects(
    lambda.send(new CreateFunctionCommand({ FunctionName: 'bad', Runtime: 'nodejs20.x', Role: 'r', Handler: 'index.handler', MemorySize: 64, Code: { ZipFile: await zipOf('x') } })),
    (err: any) => err.name === 'InvalidParameterValueException' && /memoryMb: must be between 128 and 10240/.test(err.message),
  );
  await assert.rejects(
    lambda.send(new CreateFunctionCommand({ FunctionName: 'bad', Runtime: 'nodejs20.x', Role: 'r', Handler: 'index.handler', EphemeralStorage: { Size: 100 }, Code: { ZipFile: await zipOf('x') } })),
    (err: any) => err.name === 'InvalidParameterValueException' && /tmpSizeMb: must be between 512 and 10240/.test(err.message),
  );
  await lambda.send(new CreateFunctionCommand({ FunctionName: 'dup', Runtime: 'nodejs20.x', Role: 'r', Handler: 'index.handler', Code: { ZipFile: await zipOf('x') } }));
  await assert.rejects(
    lambda.send(new CreateFunctionCommand({ FunctionName: 'dup', Runtime: 'nodejs20.x', Role: 'r', Handler: 'index.handler', Code: { ZipFile: await zipOf('x') } })),
    (err: any) => err.name === 'ResourceConflictException' && err.$metadata.httpStatusCode === 409,
  );
  await assert.rejects(
    lambda.send(new CreateFunctionCommand({ FunctionName: 'badzip', Runtime: 'nodejs20.x', Role: 'r', Handler: 'index.handler', Code: { ZipFile: Buffer.from('not a zip') } })),
    (err: any) => err.name === 'InvalidParameterValueException',
  );
  await assert.rejects(
    lambda.send(new InvokeCommand({ FunctionName: 'dup', Payload: Buffer.alloc(6 * 1024 * 1024 + 10, 'a') })),
    (err: any) => err.name === 'RequestTooLargeException' && err.$metadata.httpStatusCode === 413,
  );
  const fnError = await lambda.send(new InvokeCommand({ FunctionName: 'dup', Payload: Buffer.from('{}') }));
  assert.equal(fnError.FunctionError, undefined);
  const wrongKey = new LambdaClient({ endpoint: p.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' }, maxAttempts: 1 });
  await assert.rejects(wrongKey.send(new ListFunctionsCommand({})), (err: any) => err.name === 'UnrecognizedClientException' && err.$metadata.httpStatusCode === 403);
  wrongKey.destroy();
  const credentials = (await readCredentialsFile(join(p.dataDir, 'credentials')))!;
  const wrongSecret = new LambdaClient({ endpoint: p.url, region: 'us-east-1', credentials: { ...credentials, secretAccessKey: 'wrong' }, maxAttempts: 1 });
  await assert.rejects(wrongSecret.send(new ListFunctionsCommand({})), (err: any) => err.name === 'InvalidSignatureException' && err.$metadata.httpStatusCode === 403);
  wrongSecret.destroy();
  const unsigned = await fetch(`${p.url}/2015-03-31/functions/`);
  assert.equal(unsigned.status, 403);
  assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  const admin = await fetch(`${p.url}/_modelfn/v1/functions`);
  assert.equal(admin.status, 403, 'the modelfn API needs a signature too');
  assert.equal((await fetch(`${p.url}/_modelfn/v1/health`)).status, 200, 'health stays public');
});
