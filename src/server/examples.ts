import { existsSync } from 'node:fs';
import { zipDirectory } from '../artifacts/zip-directory.js';
import { fromPackageRoot } from '../shared/paths.js';
import type { Platform } from './platform.js';

/** The examples `npm start` deploys, and how to call them. */
export async function deployExamples(platform: Platform): Promise<string[]> {
  const lines: string[] = [];
  const dir = fromPackageRoot('examples', 'hello-node');
  if (existsSync(dir)) {
    const bundle = await platform.deployer.uploadBundle(await zipDirectory(dir));
    await platform.deployer.deploy('hello', {
      runtime: 'nodejs20.x',
      handler: 'index.handler',
      memoryMb: 256,
      timeoutSec: 10,
      environment: {},
      description: 'modelfn example: a Node.js handler',
      code: { sha256: bundle.sha256 },
      reservedConcurrency: null,
      keepAliveSec: null,
      routes: [{ method: 'POST', path: '/hello', payloadFormat: '2.0' }],
    });
    lines.push(`  example "hello" (Node.js):  curl -X POST ${platform.url}/hello -d '{"name":"modelfn"}'`);
    lines.push(`                              npx modelfn invoke hello --data '{"name":"modelfn"}'`);
  }
  return lines;
}
