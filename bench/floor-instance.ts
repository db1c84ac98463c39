// The architecture floor's instance: one child process that runs the greeter fixture's handler
// for every call the floor server hands it over stdin, and answers over stdout. Frames are
// [u32 length][u32 call id][JSON], several per write. No context, no log capture, no deadline:
// the least a separate instance process can do per call.
import { readFileSync } from 'node:fs';
import { fromPackageRoot } from '../src/shared/paths.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
// The fixture is CommonJS in an ES module package (a function bundle has no package.json of its
// own): evaluated as the CommonJS module it is, with no require of its own.
const fixture = { exports: {} as { handler?: Handler } };
new Function('exports', 'module', readFileSync(fromPackageRoot('bench', 'fixtures', 'greeter', 'index.js'), 'utf8'))(fixture.exports, fixture);
const handler = fixture.exports.handler!;

let pending: Buffer[] = [];
let flushing = false;

function answer(id: number, result: unknown): void {
  const body = Buffer.from(result === undefined ? 'null' : JSON.stringify(result));
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32LE(body.length, 0);
  head.writeUInt32LE(id, 4);
  pending.push(head, body);
  // Answers of one event-loop turn leave in one write, as the platform's instances do.
  if (!flushing) {
    flushing = true;
    setImmediate(() => {
      flushing = false;
      const out = Buffer.concat(pending);
      pending = [];
      process.stdout.write(out);
    });
  }
}

let buffered: Buffer = Buffer.alloc(0);
process.stdin.on('data', (chunk: Buffer) => {
  buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
  let at = 0;
  while (buffered.length - at >= 8) {
    const length = buffered.readUInt32LE(at);
    if (buffered.length - at < 8 + length) break;
    const id = buffered.readUInt32LE(at + 4);
    const event = JSON.parse(buffered.toString('utf8', at + 8, at + 8 + length)) as unknown;
    at += 8 + length;
    handler(event, {}).then(
      (result) => answer(id, result),
      () => answer(id, { errorMessage: 'handler failed' }),
    );
  }
  buffered = buffered.subarray(at);
});
process.stdin.on('end', () => process.exit(0));
