// The architecture floor's instance: one child process that runs the greeter fixture's handler
// for every call the floor server hands it over stdin, and answers over stdout (lib/floor-frames.ts).
// No context, no log capture, no deadline: the least a separate instance process can do per call.
import { readFileSync } from 'node:fs';
import { fromPackageRoot } from '../src/shared/paths.js';
import { frameWriter, readFrames } from './lib/floor-frames.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
// The fixture is CommonJS in an ES module package (a function bundle has no package.json of its
// own): evaluated as the CommonJS module it is, with no require of its own.
const fixture = { exports: {} as { handler?: Handler } };
new Function('exports', 'module', readFileSync(fromPackageRoot('bench', 'fixtures', 'greeter', 'index.js'), 'utf8'))(fixture.exports, fixture);
const handler = fixture.exports.handler!;

const answer = frameWriter(process.stdout);
readFrames(process.stdin, (id, body) => {
  const event = JSON.parse(body.toString('utf8')) as unknown;
  handler(event, {}).then(
    (result) => answer(id, Buffer.from(result === undefined ? 'null' : JSON.stringify(result))),
    () => answer(id, Buffer.from('{"errorMessage":"handler failed"}')),
  );
});
process.stdin.on('end', () => process.exit(0));
