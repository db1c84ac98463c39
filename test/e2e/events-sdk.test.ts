// The event operations through the AWS SDK for JavaScript v3, with SigV4 authentication on: the
// shapes are AWS's and the operations sit behind the Lambda API's central signature check.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetEventSourceMappingCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionEventInvokeConfigsCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { zipDirectory } from '../../src/artifacts/zip-directory.js';
import { readCredentialsFile } from '../../src/auth/credentials-file.js';
import { PlatformClient } from '../../src/cli/client.js';
import { RequestSigner } from '../../src/cli/signer.js';
import { eventually, fixture, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';

let p: RunningPlatform;
let lambda: LambdaClient;
let modelfn: PlatformClient;

before(async () => {
  p = await startPlatform({ auth: true });
  const credentials = await readCredentialsFile(join(p.dataDir, 'credentials'));
  assert.ok(credentials);
  lambda = new LambdaClient({ endpoint: p.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  modelfn = new PlatformClient(p.url, new RequestSigner(credentials, 'us-east-1'));
  await lambda.send(new CreateFunctionCommand({ FunctionName: 'sdk-async', Runtime: 'nodejs20.x', Role: 'r', Handler: 'index.handler', Code: { ZipFile: await zipDirectory(fixture('functions', 'echo')) } }));
});

after(async () => {
  lambda?.destroy();
  await p.cleanup();
});

test('SDK: Invoke with InvocationType Event is 202; unsigned is refused', async () => {
  const res = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-async', InvocationType: 'Event', Payload: Buffer.from('{"a":1}') }));
  assert.equal(res.StatusCode, 202);
  const unsigned = await fetch(`${p.url}/2015-03-31/functions/sdk-async/invocations`, { method: 'POST', body: '{}', headers: { 'x-amz-invocation-type': 'Event' } });
  assert.equal(unsigned.status, 403);
});

test('SDK: event invoke config operations', async () => {
  const put = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'sdk-async', MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 120 }));
  assert.equal(put.MaximumRetryAttempts, 1);
  assert.equal(put.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-async:$LATEST');
  assert.ok(put.LastModified instanceof Date);
  const updated = await lambda.send(
    new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'sdk-async', DestinationConfig: { OnFailure: { Destination: 'arn:aws:lambda:us-east-1:000000000000:function:sdk-async' } } }),
  );
  assert.equal(updated.MaximumEventAgeInSeconds, 120);
  assert.equal(updated.DestinationConfig?.OnFailure?.Destination, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-async');
  const got = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'sdk-async' }));
  assert.equal(got.MaximumRetryAttempts, 1);
  const listed = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'sdk-async' }));
  assert.equal(listed.FunctionEventInvokeConfigs?.length, 1);
  await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'sdk-async' }));
  await assert.rejects(lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'sdk-async' })), { name: 'ResourceNotFoundException' });
  await assert.rejects(lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'sdk-async', MaximumRetryAttempts: 7 })), (err: any) => /MaximumRetryAttempts/.test(err.message));
});

test('SDK: event source mapping operations on a modelfn queue', async () => {
  await modelfn.json('PUT', '/_modelfn/v1/queues/sdk-q', {});
  const arn = 'arn:aws:sqs:us-east-1:000000000000:sdk-q';
  const created = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'sdk-async', EventSourceArn: arn, BatchSize: 5, FunctionResponseTypes: ['ReportBatchItemFailures'] }));
  assert.ok(created.UUID);
  assert.equal(created.BatchSize, 5);
  assert.equal(created.EventSourceArn, arn);
  const got = await lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID }));
  assert.equal(got.State, 'Enabled');
  assert.ok(got.LastModified instanceof Date);
  const listed = await lambda.send(new ListEventSourceMappingsCommand({ EventSourceArn: arn }));
  assert.deepEqual(listed.EventSourceMappings?.map((m) => m.UUID), [created.UUID]);
  const updated = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: created.UUID, Enabled: false, BatchSize: 3 }));
  assert.equal(updated.State, 'Disabled');
  assert.equal(updated.BatchSize, 3);
  await assert.rejects(lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'sdk-async', EventSourceArn: arn })), { name: 'ResourceConflictException' });
  await lambda.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }));
  await assert.rejects(lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID })), { name: 'ResourceNotFoundException' });
});

test('SDK: DeadLetterConfig on CreateFunction and UpdateFunctionConfiguration: failed events land in the queue; bad targets are refused', async () => {
  await modelfn.json('PUT', '/_modelfn/v1/queues/sdk-dlq', {});
  const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:sdk-dlq';
  const zip = await zipDirectory(fixture('functions', 'faults'));
  const created = await lambda.send(
    new CreateFunctionCommand({ FunctionName: 'sdk-dlq-fn', Runtime: 'nodejs20.x', Role: 'r', Handler: 'index.handler', Code: { ZipFile: zip }, DeadLetterConfig: { TargetArn: dlqArn } }),
  );
  assert.equal(created.DeadLetterConfig?.TargetArn, dlqArn);
  assert.equal((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'sdk-dlq-fn' }))).DeadLetterConfig?.TargetArn, dlqArn);
  assert.equal((await lambda.send(new GetFunctionCommand({ FunctionName: 'sdk-dlq-fn' }))).Configuration?.DeadLetterConfig?.TargetArn, dlqArn);
  await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'sdk-dlq-fn', MaximumRetryAttempts: 0 }));
  const sent = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-dlq-fn', InvocationType: 'Event', Payload: Buffer.from('{"action":"throw"}') }));
  assert.equal(sent.StatusCode, 202);
  const letters = await eventually(async () => {
    const { messages } = (await modelfn.json('GET', '/_modelfn/v1/functions/sdk-dlq-fn/dead-letters')) as { messages: Array<{ body: string }> };
    return messages.length > 0 ? messages : undefined;
  }, 20_000, 'the failed event in the dead-letter queue');
  assert.match(letters[0]!.body, /throw/);

  // Refused, naming the member: a queue that does not exist, an SNS topic.
  await assert.rejects(
    lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-dlq-fn', DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:000000000000:no-such-queue' } })),
    (err: any) => err.name === 'InvalidParameterValueException' && /DeadLetterConfig.TargetArn: queue no-such-queue does not exist/.test(err.message),
  );
  await assert.rejects(
    lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-dlq-fn', DeadLetterConfig: { TargetArn: 'arn:aws:sns:us-east-1:000000000000:topic' } })),
    (err: any) => err.name === 'InvalidParameterValueException' && /DeadLetterConfig.TargetArn/.test(err.message),
  );
  assert.equal((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'sdk-dlq-fn' }))).DeadLetterConfig?.TargetArn, dlqArn);
  // An empty TargetArn removes it, in the same write as the rest of the update.
  const cleared = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-dlq-fn', Timeout: 5, DeadLetterConfig: { TargetArn: '' } }));
  assert.equal(cleared.DeadLetterConfig, undefined);
  assert.equal(cleared.Timeout, 5);
  assert.equal((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'sdk-dlq-fn' }))).DeadLetterConfig, undefined);
});

test('SDK: members modelfn cannot honour are refused by name, not dropped; their empty forms pass', async () => {
  const zip = await zipDirectory(fixture('functions', 'echo'));
  const base = { FunctionName: 'sdk-members', Runtime: 'nodejs20.x' as const, Role: 'r', Handler: 'index.handler', Code: { ZipFile: zip } };
  const refused = async (extra: Record<string, unknown>, message: RegExp) =>
    assert.rejects(lambda.send(new CreateFunctionCommand({ ...base, ...extra })), (err: any) => err.name === 'InvalidParameterValueException' && message.test(err.message));
  await refused({ Layers: ['arn:aws:lambda:us-east-1:000000000000:layer:numpy:1'] }, /^Layers: Lambda layers are not supported/);
  await refused({ FileSystemConfigs: [{ Arn: 'arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/fsap-1', LocalMountPath: '/mnt/x' }] }, /^FileSystemConfigs/);
  await refused({ VpcConfig: { SubnetIds: ['subnet-1'], SecurityGroupIds: ['sg-1'] } }, /^VpcConfig/);
  await refused({ KMSKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/k' }, /^KMSKeyArn/);
  const other = process.arch === 'arm64' ? 'x86_64' : 'arm64';
  await refused({ Architectures: [other] }, new RegExp(`^Architectures: this platform runs functions on ${process.arch === 'arm64' ? 'arm64' : 'x86_64'}`));
  await assert.rejects(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'sdk-members' })), { name: 'ResourceNotFoundException' });
  const created = await lambda.send(new CreateFunctionCommand({ ...base, Layers: [], VpcConfig: { SubnetIds: [], SecurityGroupIds: [] }, FileSystemConfigs: [] }));
  assert.deepEqual(created.Architectures, [process.arch === 'arm64' ? 'arm64' : 'x86_64']);
  await assert.rejects(
    lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-members', Layers: ['arn:aws:lambda:us-east-1:000000000000:layer:numpy:1'] })),
    (err: any) => err.name === 'InvalidParameterValueException' && /^Layers/.test(err.message),
  );
});
