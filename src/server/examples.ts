import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { zipSync } from 'fflate';
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
  const model = fromPackageRoot('examples', 'iris-joblib', 'model.joblib');
  if (existsSync(model)) {
    // A zero-code model function: the bundle is the model file alone, served by the model runtime.
    const bundle = await platform.deployer.uploadBundle(Buffer.from(zipSync({ 'model.joblib': await readFile(model) })));
    await platform.deployer.deploy('iris', {
      runtime: 'model',
      handler: 'model.joblib',
      memoryMb: 256,
      timeoutSec: 10,
      environment: {},
      description: 'modelfn example: the seed\'s iris RandomForest (scikit-learn joblib), no handler code',
      code: { sha256: bundle.sha256 },
      reservedConcurrency: null,
      keepAliveSec: null,
      routes: [{ method: 'POST', path: '/iris', payloadFormat: '2.0' }],
    });
    lines.push(`  example "iris" (model):     curl -X POST ${platform.url}/iris -d '[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]'`);
    lines.push(`                              curl -X POST '${platform.url}/iris?proba=1' -d '[[5.1,3.5,1.4,0.2]]'`);
    lines.push(`                              curl -X POST ${platform.url}/v2/models/iris/infer -d '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}]}'`);
  }
  return lines;
}
