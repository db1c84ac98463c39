import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionDocument } from '../../../src/registry/types.js';
import { deleteAlias, deleteVersion, publishVersion, putAlias } from '../../../src/registry/versions.js';
import { ModelfnError } from '../../../src/shared/errors.js';
import { QUALIFIED_EXTENSIONS } from '../../../src/registry/qualified-extensions.js';
import { provisionedSettings } from '../../../src/registry/provisioned.js';
import { urlConfigs } from '../../../src/surfaces/function-urls/url-config.js';
import { EVENT_INVOKE_CONFIGS, storedConfigs } from '../../../src/events/async/event-invoke-config.js';
import { policiesOf } from '../../../src/surfaces/lambda-api/policy-operations.js';

const base: FunctionDocument = {
  name: 'fn',
  createdAt: '2026-01-01T00:00:00.000Z',
  latest: { name: 'fn', version: '$LATEST', runtime: 'nodejs20.x', handler: 'index.handler', memoryMb: 128, timeoutSec: 3, environment: {}, description: 'd', codeSha256: 'a'.repeat(64), codeSize: 1, revisionId: 'r0', lastModified: '2026-01-01T00:00:00.000Z' },
  versions: {},
  lastPublishedVersion: 0,
  aliases: {},
  routes: [],
  scaling: { reservedConcurrency: null, keepAliveSec: null },
  extensions: {},
};

const code = (err: unknown, c: string) => err instanceof ModelfnError && err.code === c;

test('publishing snapshots $LATEST; unchanged code and configuration return the existing version', () => {
  const one = publishVersion(base, 'now', {});
  assert.equal(one.created, true);
  assert.equal(one.version.version, '1');
  assert.equal(one.version.codeSha256, base.latest.codeSha256);
  const again = publishVersion(one.doc, 'later', {});
  assert.equal(again.created, false);
  assert.equal(again.version.version, '1');
  const changed = { ...one.doc, latest: { ...one.doc.latest, timeoutSec: 9 } };
  assert.equal(publishVersion(changed, 'later', {}).version.version, '2');
  assert.throws(() => publishVersion(base, 'now', { revisionId: 'stale' }), (e) => code(e, 'PRECONDITION_FAILED'));
  assert.throws(() => publishVersion(base, 'now', { codeSha256Hex: 'b'.repeat(64) }), (e) => code(e, 'INVALID_PARAMETER'));
});

test('aliases point at versions, weights go to one other version in [0, 1]', () => {
  let doc = publishVersion(base, 'now', {}).doc;
  doc = publishVersion({ ...doc, latest: { ...doc.latest, codeSha256: 'c'.repeat(64) } }, 'now', {}).doc;
  const { doc: withAlias, alias } = putAlias(doc, 'live', { functionVersion: '1', additionalVersionWeights: { '2': 0.25 } }, 'create');
  assert.deepEqual(alias.additionalVersionWeights, { '2': 0.25 });
  assert.throws(() => putAlias(withAlias, 'live', { functionVersion: '1' }, 'create'), (e) => code(e, 'CONFLICT'));
  assert.throws(() => putAlias(doc, 'x', { functionVersion: '9' }, 'create'), (e) => code(e, 'FUNCTION_NOT_FOUND'));
  assert.throws(() => putAlias(doc, 'x', { functionVersion: '1', additionalVersionWeights: { '2': 1.2 } }, 'create'), /between 0\.0 and 1\.0/);
  assert.throws(() => putAlias(doc, 'x', { functionVersion: '1', additionalVersionWeights: { '1': 0.5 } }, 'create'), /must differ/);
  assert.throws(() => putAlias(doc, 'x', { functionVersion: '$LATEST', additionalVersionWeights: { '2': 0.5 } }, 'create'), /\$LATEST/);
  assert.throws(() => putAlias(doc, '123', { functionVersion: '1' }, 'create'), /not only digits/);
  assert.throws(() => putAlias(withAlias, 'live', { functionVersion: '2' }, 'update', 'stale-revision'), (e) => code(e, 'PRECONDITION_FAILED'));
  assert.throws(() => deleteVersion(withAlias, '2'), (e) => code(e, 'CONFLICT'));
  assert.throws(() => deleteVersion(withAlias, '1'), /aliases reference it: \[live\]/);
  const freed = deleteAlias(withAlias, 'live');
  assert.deepEqual(Object.keys(deleteVersion(freed, '2').versions), ['1']);
  assert.throws(() => deleteAlias(freed, 'live'), (e) => code(e, 'RESOURCE_NOT_FOUND'));
});

test('a deleted alias or version takes its per-qualifier settings along; the others stay', () => {
  const perQualifier = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, { setting: k }]));
  const one = publishVersion(base, 'now', {}).doc;
  const two = publishVersion({ ...one, latest: { ...one.latest, timeoutSec: 9 } }, 'now', {}).doc;
  const withAlias = putAlias(two, 'live', { functionVersion: '1' }, 'create').doc;
  const settings = perQualifier(['', 'live', '2']);
  const doc: FunctionDocument = { ...withAlias, extensions: { provisioned: settings, urls: settings, eventInvokeConfigs: settings, policies: settings, tags: { live: 'x' } } };
  // Read back through each owner's own reader, so a renamed extension fails here.
  const readers = [provisionedSettings, urlConfigs, storedConfigs, policiesOf];
  const afterAlias = deleteAlias(doc, 'live');
  for (const read of readers) assert.deepEqual(Object.keys(read(afterAlias)).sort(), ['', '2']);
  const afterVersion = deleteVersion(afterAlias, '2');
  for (const read of readers) assert.deepEqual(Object.keys(read(afterVersion)), ['']);
  assert.deepEqual(afterVersion.extensions.tags, { live: 'x' });
  assert.deepEqual(QUALIFIED_EXTENSIONS, ['provisioned', 'urls', EVENT_INVOKE_CONFIGS, 'policies']);
});
