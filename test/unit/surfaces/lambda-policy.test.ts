import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelfnError } from '../../../src/shared/errors.js';
import { MAX_POLICY_BYTES, addStatement, policyDocument, removeStatement, statementFor } from '../../../src/surfaces/lambda-api/policy-operations.js';
import type { AddPermissionRequest, StoredPolicy } from '../../../src/surfaces/lambda-api/policy-operations.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:f';
const request = (extra: Partial<AddPermissionRequest> = {}): AddPermissionRequest => ({ StatementId: 's', Action: 'lambda:InvokeFunction', Principal: '*', ...extra });
const fails = (fn: () => unknown, code: string, message: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof ModelfnError && err.code === code && message.test(err.message));

test('principals read as Lambda reads them: everyone, an account, an IAM ARN, a service', () => {
  assert.equal(statementFor(request(), ARN).Principal, '*');
  assert.deepEqual(statementFor(request({ Principal: '111122223333' }), ARN).Principal, { AWS: 'arn:aws:iam::111122223333:root' });
  assert.deepEqual(statementFor(request({ Principal: 'arn:aws:iam::111122223333:role/caller' }), ARN).Principal, { AWS: 'arn:aws:iam::111122223333:role/caller' });
  assert.deepEqual(statementFor(request({ Principal: 'sns.amazonaws.com' }), ARN).Principal, { Service: 'sns.amazonaws.com' });
  assert.deepEqual(statementFor(request({ Principal: 'alexa-appkit.amazon.com' }), ARN).Principal, { Service: 'alexa-appkit.amazon.com' });
  for (const bad of ['', 'a b', 'someone', '1234', 'arn:aws:s3:::bucket']) fails(() => statementFor(request({ Principal: bad }), ARN), 'INVALID_PARAMETER', /principal was invalid/);
});

test('the optional members become conditions, merged under one operator', () => {
  const statement = statementFor(
    request({ SourceAccount: '123456789012', SourceArn: 'arn:aws:s3:::b', PrincipalOrgID: 'o-a1b2c3d4e5', EventSourceToken: 't.1', FunctionUrlAuthType: 'NONE' }),
    `${ARN}:live`,
  );
  assert.deepEqual(statement, {
    Sid: 's',
    Effect: 'Allow',
    Principal: '*',
    Action: 'lambda:InvokeFunction',
    Resource: `${ARN}:live`,
    Condition: {
      StringEquals: { 'AWS:SourceAccount': '123456789012', 'lambda:EventSourceToken': 't.1', 'aws:PrincipalOrgID': 'o-a1b2c3d4e5', 'lambda:FunctionUrlAuthType': 'NONE' },
      ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::b' },
    },
  });
  assert.equal('Condition' in statementFor(request(), ARN), false);
});

test('members Lambda refuses are refused, naming the member', () => {
  fails(() => statementFor(request({ StatementId: 'a b' }), ARN), 'INVALID_PARAMETER', /StatementId "a b"/);
  fails(() => statementFor(request({ StatementId: 'x'.repeat(101) }), ARN), 'INVALID_PARAMETER', /StatementId/);
  fails(() => statementFor(request({ Action: 's3:GetObject' }), ARN), 'INVALID_PARAMETER', /Action "s3:GetObject"/);
  fails(() => statementFor(request({ SourceAccount: '12345' }), ARN), 'INVALID_PARAMETER', /SourceAccount/);
  fails(() => statementFor(request({ SourceArn: 'bucket' }), ARN), 'INVALID_PARAMETER', /SourceArn/);
  fails(() => statementFor(request({ PrincipalOrgID: 'org' }), ARN), 'INVALID_PARAMETER', /PrincipalOrgID/);
  fails(() => statementFor(request({ EventSourceToken: 'a b' }), ARN), 'INVALID_PARAMETER', /EventSourceToken/);
  for (const action of ['lambda:*', '*', 'lambda:GetFunction']) assert.equal(statementFor(request({ Action: action }), ARN).Action, action);
});

test('statements add up under a new revision; a Sid is taken once; a stale revision is refused', () => {
  const first = addStatement(undefined, statementFor(request({ StatementId: 'a' }), ARN));
  const second = addStatement(first, statementFor(request({ StatementId: 'b' }), ARN), first.revisionId);
  assert.notEqual(second.revisionId, first.revisionId);
  assert.deepEqual(JSON.parse(policyDocument(second)), { Version: '2012-10-17', Id: 'default', Statement: [...first.statements, ...second.statements.slice(1)] });
  fails(() => addStatement(second, statementFor(request({ StatementId: 'a' }), ARN)), 'CONFLICT', /statement id \(a\) provided already exists/);
  fails(() => addStatement(second, statementFor(request({ StatementId: 'c' }), ARN), first.revisionId), 'PRECONDITION_FAILED', /GetPolicy/);
  fails(() => addStatement(undefined, statementFor(request({ StatementId: 'c' }), ARN), 'any'), 'PRECONDITION_FAILED', /no policy yet/);
});

test('a policy stops at Lambda size limit, with the size it would have had', () => {
  let policy: StoredPolicy | undefined;
  let added = 0;
  try {
    for (;;) {
      policy = addStatement(policy, statementFor(request({ StatementId: `sid-${added}`, SourceArn: `arn:aws:s3:::${'b'.repeat(200)}` }), ARN));
      added++;
    }
  } catch (err) {
    assert.ok(err instanceof ModelfnError && err.code === 'POLICY_LENGTH_EXCEEDED', String(err));
    assert.match(err.message, new RegExp(`bigger than the limit \\(${MAX_POLICY_BYTES}\\)`));
  }
  assert.ok(added > 10);
  assert.ok(Buffer.byteLength(policyDocument(policy!)) <= MAX_POLICY_BYTES);
});

test('removing statements: by Sid, under the current revision, the last one ends the policy', () => {
  const two = addStatement(addStatement(undefined, statementFor(request({ StatementId: 'a' }), ARN)), statementFor(request({ StatementId: 'b' }), ARN));
  const one = removeStatement(two, 'a', two.revisionId)!;
  assert.deepEqual(one.statements.map((s) => s.Sid), ['b']);
  fails(() => removeStatement(one, 'a'), 'RESOURCE_NOT_FOUND', /Statement a is not found/);
  fails(() => removeStatement(one, 'b', two.revisionId), 'PRECONDITION_FAILED', /does not match/);
  fails(() => removeStatement(undefined, 'b'), 'RESOURCE_NOT_FOUND', /No policy/);
  assert.equal(removeStatement(one, 'b'), undefined);
});
