import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChannelError } from '../../../src/runtimes/runtime.js';

test('a channel error keeps the Lambda members of the right types and names the sender of a body that is not JSON', () => {
  assert.deepEqual(parseChannelError(Buffer.from('{"errorType":"TypeError","errorMessage":"x is undefined","stackTrace":["at a",2]}'), 'the runtime'), {
    errorType: 'TypeError',
    errorMessage: 'x is undefined',
    stackTrace: ['at a', '2'],
  });
  assert.deepEqual(parseChannelError(Buffer.from('{"errorType":7,"errorMessage":{"a":1},"stackTrace":"no"}'), 'the runtime'), { errorType: 'Error', errorMessage: '', stackTrace: [] });
  assert.deepEqual(parseChannelError(Buffer.from('null'), 'the model host'), { errorType: 'Runtime.InvalidResponse', errorMessage: 'the model host reported an error that is not JSON' });
  assert.deepEqual(parseChannelError(Buffer.from('\u00ff{'), 'the model host'), { errorType: 'Runtime.InvalidResponse', errorMessage: 'the model host reported an error that is not JSON' });
});
