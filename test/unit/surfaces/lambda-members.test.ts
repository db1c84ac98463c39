import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelfnError } from '../../../src/shared/errors.js';
import { HOST_ARCHITECTURE, refuseUnhonoured } from '../../../src/surfaces/lambda-api/unhonoured-members.js';

const refused = (body: Record<string, unknown>, message: RegExp) =>
  assert.throws(() => refuseUnhonoured(body), (err: unknown) => err instanceof ModelfnError && err.code === 'INVALID_PARAMETER' && message.test(err.message));

test('what infrastructure tools send for "none" passes', () => {
  refuseUnhonoured({});
  refuseUnhonoured({ Layers: [], FileSystemConfigs: [], KMSKeyArn: '', CodeSigningConfigArn: null, ImageConfig: {} });
  refuseUnhonoured({ VpcConfig: { SubnetIds: [], SecurityGroupIds: [], Ipv6AllowedForDualStack: false } });
  refuseUnhonoured({ Architectures: [HOST_ARCHITECTURE] });
});

test('members that would change what the function sees are refused by name', () => {
  refused({ Layers: ['arn:aws:lambda:us-east-1:000000000000:layer:x:1'] }, /^Layers: .*zip/);
  refused({ FileSystemConfigs: [{ Arn: 'a', LocalMountPath: '/mnt/a' }] }, /^FileSystemConfigs/);
  refused({ VpcConfig: { SubnetIds: ['subnet-1'] } }, /^VpcConfig/);
  refused({ VpcConfig: { Ipv6AllowedForDualStack: true } }, /^VpcConfig/);
  refused({ KMSKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/k' }, /^KMSKeyArn/);
  refused({ CodeSigningConfigArn: 'arn' }, /^CodeSigningConfigArn/);
  refused({ ImageConfig: { Command: ['app.handler'] } }, /^ImageConfig/);
  refused({ Architectures: [HOST_ARCHITECTURE === 'arm64' ? 'x86_64' : 'arm64'] }, new RegExp(`runs functions on ${HOST_ARCHITECTURE}`));
});
