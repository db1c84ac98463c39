// SigV4 cost: an Invoke round trip through the AWS SDK (signed, verified) against an unsigned
// route call to the same function, same run; plus signing and verification measured alone.
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SigV4Authenticator } from '../src/auth/authenticator.js';
import type { AccessKey } from '../src/auth/access-keys.js';
import { readCredentialsFile } from '../src/auth/credentials-file.js';
import { zipDirectory } from '../src/artifacts/zip-directory.js';
import { RequestSigner } from '../src/cli/signer.js';
import { systemClock } from '../src/shared/clock.js';
import { fromPackageRoot } from '../src/shared/paths.js';
import { startPlatform } from './lib/processes.js';
import type { Row } from './lib/report.js';
import { median, printTable } from './lib/report.js';

const BODY = JSON.stringify({ name: 'bench' });

async function timeEach(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/** Signing and verifying one Invoke request, in-process (µs). */
async function signAndVerifyMicros(): Promise<{ signUs: number; verifyUs: number }> {
  const key: AccessKey = { accessKeyId: 'AKIABENCHMARK0000000', secretAccessKey: 'secret', tenant: 't', admin: true, createdAt: '', revoked: false, description: '' };
  const signer = new RequestSigner(key, 'us-east-1', 'lambda');
  const auth = new SigV4Authenticator({ get: () => key, list: () => [key], create: async () => key, revoke: async () => false }, 'us-east-1', systemClock);
  const url = new URL('http://127.0.0.1:8080/2015-03-31/functions/greeter/invocations');
  const body = Buffer.from(JSON.stringify({ body: BODY }));
  const n = 3000;
  let headers: Record<string, string> = {};
  const t0 = performance.now();
  for (let i = 0; i < n; i++) headers = await signer.sign('POST', url, { 'content-type': 'application/json' }, body);
  const signUs = ((performance.now() - t0) / n) * 1000;
  const all: Record<string, string> = { host: url.host, ...headers };
  const req = { method: 'POST', headers: all, rawHeaders: Object.entries(all).flat() } as unknown as IncomingMessage;
  const t1 = performance.now();
  for (let i = 0; i < n; i++) auth.authenticate({ req, rawPath: url.pathname, rawQuery: '', body }, ['lambda']);
  const verifyUs = ((performance.now() - t1) / n) * 1000;
  return { signUs, verifyUs };
}

export async function benchLambdaApi(samples = 400): Promise<Row[]> {
  const platform = await startPlatform({}, ['--auth', 'sigv4']);
  try {
    const credentials = (await readCredentialsFile(join(platform.dataDir, 'credentials')))!;
    const lambda = new LambdaClient({ endpoint: platform.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const zip = await zipDirectory(fromPackageRoot('bench', 'fixtures', 'greeter'));
    const signer = new RequestSigner(credentials, 'us-east-1');
    const upload = async (path: string, body: Buffer | string, type: string, method = 'POST') => {
      const url = new URL(path, platform.url);
      const bytes = Buffer.from(body);
      const headers = await signer.sign(method, url, { 'content-type': type }, bytes);
      return fetch(url, { method, body: bytes, headers: { 'content-type': type, ...headers } });
    };
    const { sha256 } = (await (await upload('/_modelfn/v1/bundles', zip, 'application/zip')).json()) as { sha256: string };
    const spec = JSON.stringify({ runtime: 'nodejs20.x', handler: 'index.handler', memoryMb: 256, code: { sha256 }, routes: [{ method: 'POST', path: '/greet' }] });
    const deployed = await upload('/_modelfn/v1/functions/greeter', spec, 'application/json', 'PUT');
    if (!deployed.ok) throw new Error(`deploy failed: ${deployed.status} ${await deployed.text()}`);
    const routeCall = () => fetch(`${platform.url}/greet`, { method: 'POST', body: BODY }).then((r) => r.arrayBuffer());
    const sdkCall = () => lambda.send(new InvokeCommand({ FunctionName: 'greeter', Payload: Buffer.from(JSON.stringify({ body: BODY })) }));
    for (let i = 0; i < 50; i++) {
      await routeCall();
      await sdkCall();
    }
    const route: number[] = [];
    const sdk: number[] = [];
    for (let round = 0; round < 4; round++) {
      route.push(...(await timeEach(samples / 4, routeCall)));
      sdk.push(...(await timeEach(samples / 4, sdkCall)));
    }
    lambda.destroy();
    const { signUs, verifyUs } = await signAndVerifyMicros();
    const sdkP50 = median(sdk);
    const rows: Row[] = [
      { name: 'route call, unsigned (fetch), p50', value: median(route), unit: 'ms', note: `${route.length} sequential calls` },
      { name: 'Invoke through the AWS SDK, signed + verified, p50', value: sdkP50, unit: 'ms', note: `${sdk.length} sequential calls` },
      { name: 'SigV4 signing (client, AWS SDK signer)', value: signUs, unit: 'µs', note: 'in-process, mean of 3000' },
      { name: 'SigV4 verification (platform)', value: verifyUs, unit: 'µs', note: 'in-process, mean of 3000' },
      { name: 'SigV4 share of the SDK round trip', value: (signUs + verifyUs) / 1000 / sdkP50, unit: 'ratio', note: 'target < 0.05' },
    ];
    printTable('Lambda API: cost of SigV4', rows);
    return rows;
  } finally {
    await platform.stop();
  }
}
