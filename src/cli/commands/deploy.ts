import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { zipSync } from 'fflate';
import { zipDirectory } from '../../artifacts/zip-directory.js';
import { callExamples, describeTensors, shellQuote } from '../../models/codecs/examples.js';
import type { TensorSpec } from '../../models/codecs/signature.js';
import { exampleRows } from '../../models/codecs/signature.js';
import { modelFormatOf } from '../../runtimes/model/model-files.js';
import type { FunctionView } from '../../surfaces/admin/function-view.js';
import type { PlatformClient } from '../client.js';
import { CliError } from '../client.js';
import { printJson } from '../output.js';

export interface DeployOptions {
  name?: string;
  runtime?: string;
  handler?: string;
  memory?: string;
  timeout?: string;
  env?: string[];
  concurrency?: string;
  keepAlive?: string;
  /** fixed, adaptive, or default (the platform's). */
  keepAlivePolicy?: string;
  route?: string[];
  payloadFormat?: string;
  routeAuth?: string;
  description?: string;
  /** Model files: "maxBatchSize,maxDelayMs" or "off". */
  batch?: string;
  /** allow or deny. */
  network?: string;
  /** MB. */
  tmpSize?: string;
  json?: boolean;
}

/** `modelfn deploy PATH`: zip (or take) the bundle, upload it, create or update the function. */
export async function deployCommand(client: PlatformClient, path: string, opts: DeployOptions): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new CliError(`${path} does not exist`);
  if (info.isFile() && modelFormatOf(basename(path))) return deployModel(client, path, opts);
  if (opts.batch !== undefined) throw new CliError('--batch applies to model files (.onnx, .joblib, .pkl) only');
  const isZip = info.isFile() && extname(path).toLowerCase() === '.zip';
  if (!info.isDirectory() && !isZip) throw new CliError(`${path} is neither a folder, a .zip file nor a model file (.onnx, .joblib, .pkl)`);
  const name = opts.name ?? basename(path, isZip ? extname(path) : '').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  const zip = isZip ? await readFile(path) : await zipDirectory(path).catch((err: Error) => { throw new CliError(err.message); });

  const uploaded = client.parse<{ sha256: string }>(await client.request('POST', '/_modelfn/v1/bundles', zip, { 'content-type': 'application/zip' }));
  const existing = await client.request('GET', `/_modelfn/v1/functions/${encodeURIComponent(name)}`);
  const current = existing.status === 200 ? client.parse<FunctionView>(existing) : undefined;
  const inferred = info.isDirectory() ? inferRuntime(path) : undefined;
  const runtime = opts.runtime ?? current?.runtime ?? inferred?.runtime;
  const handler = opts.handler ?? current?.handler ?? inferred?.handler;
  if (!runtime || !handler) {
    throw new CliError('cannot tell the runtime and handler of this bundle: pass --runtime (e.g. nodejs20.x) and --handler (e.g. index.handler)');
  }
  const spec: Record<string, unknown> = {
    runtime,
    handler,
    memoryMb: intOption(opts.memory, '--memory') ?? current?.memoryMb,
    timeoutSec: intOption(opts.timeout, '--timeout') ?? current?.timeoutSec,
    environment: opts.env ? parseEnv(opts.env) : current?.environment,
    description: opts.description ?? current?.description,
    code: { sha256: uploaded.sha256 },
    reservedConcurrency: intOption(opts.concurrency, '--concurrency') ?? current?.reservedConcurrency ?? null,
    keepAliveSec: intOption(opts.keepAlive, '--keep-alive') ?? current?.keepAliveSec ?? null,
    keepAlivePolicy: keepAlivePolicyOption(opts.keepAlivePolicy),
    network: networkOption(opts.network),
    tmpSizeMb: intOption(opts.tmpSize, '--tmp-size'),
  };
  if (opts.route) spec.routes = opts.route.map((r) => withRouteAuth(parseRoute(r, opts.payloadFormat), opts.routeAuth));
  const view = await client.json<FunctionView>('PUT', `/_modelfn/v1/functions/${encodeURIComponent(name)}`, dropUndefined(spec));
  if (opts.json) return printJson(view);
  if (spec.network !== undefined || spec.tmpSizeMb !== undefined) {
    process.stdout.write(`  sandbox: network ${spec.network ?? 'unchanged'}, /tmp ${spec.tmpSizeMb !== undefined ? `${String(spec.tmpSizeMb)} MB` : 'unchanged'}\n`);
  }
  process.stdout.write(`${current ? 'updated' : 'deployed'} ${view.name} (${view.runtime}, ${view.handler}, ${view.memoryMb} MB, ${view.timeoutSec} s, code ${view.codeSha256.slice(0, 12)})\n`);
  if (view.keepAlivePolicy) process.stdout.write(`  keep-alive: ${view.keepAlivePolicy}${view.keepAliveSec !== null ? ` (fixed ${view.keepAliveSec} s)` : ''}\n`);
  for (const route of view.routes) {
    const method = route.method === 'ANY' ? 'POST' : route.method;
    const url = route.path === '$default' ? `${client.endpoint}/` : `${client.endpoint}${route.path}`;
    process.stdout.write(`  route ${route.method} ${route.path}  ->  curl -X ${method} ${url} -d '{}'\n`);
  }
  process.stdout.write(`  invoke: modelfn invoke ${view.name} --data '{}'\n`);
}

/**
 * `modelfn deploy model.onnx|model.joblib`: a zero-code model function. The bundle is a zip of the
 * one file (so bundles, versions and unpacking work as for code), the runtime is "model" and the
 * handler the file name. Prints the endpoints with a curl line built from the model's signature.
 */
async function deployModel(client: PlatformClient, path: string, opts: DeployOptions): Promise<void> {
  const file = basename(path);
  const name = opts.name ?? defaultModelName(path, file);
  if (opts.runtime !== undefined && opts.runtime !== 'model') throw new CliError(`${file} is a model file: its runtime is "model", not ${opts.runtime}`);
  const zip = Buffer.from(zipSync({ [file]: [await readFile(path), { level: 6 }] }));
  const uploaded = client.parse<{ sha256: string }>(await client.request('POST', '/_modelfn/v1/bundles', zip, { 'content-type': 'application/zip' }));
  const existing = await client.request('GET', `/_modelfn/v1/functions/${encodeURIComponent(name)}`);
  const current = existing.status === 200 ? client.parse<FunctionView>(existing) : undefined;
  const spec: Record<string, unknown> = {
    runtime: 'model',
    handler: file,
    memoryMb: intOption(opts.memory, '--memory') ?? current?.memoryMb ?? 256,
    timeoutSec: intOption(opts.timeout, '--timeout') ?? current?.timeoutSec ?? 10,
    environment: opts.env ? parseEnv(opts.env) : current?.environment,
    description: opts.description ?? current?.description,
    code: { sha256: uploaded.sha256 },
    reservedConcurrency: intOption(opts.concurrency, '--concurrency') ?? current?.reservedConcurrency ?? null,
    keepAliveSec: intOption(opts.keepAlive, '--keep-alive') ?? current?.keepAliveSec ?? null,
    keepAlivePolicy: keepAlivePolicyOption(opts.keepAlivePolicy),
    batching: opts.batch === undefined ? undefined : parseBatch(opts.batch),
  };
  if (opts.route) spec.routes = opts.route.map((r) => withRouteAuth(parseRoute(r, opts.payloadFormat), opts.routeAuth));
  const view = await client.json<FunctionView>('PUT', `/_modelfn/v1/functions/${encodeURIComponent(name)}`, dropUndefined(spec));
  const meta = client.parse<{ platform: string; inputs: TensorSpec[]; outputs: TensorSpec[] }>(await client.request('GET', `/v2/models/${encodeURIComponent(name)}`));
  if (opts.json) return printJson({ ...view, model: meta });
  const out = process.stdout;
  out.write(`${current ? 'updated' : 'deployed'} model ${view.name} (${meta.platform}, ${view.memoryMb} MB, code ${view.codeSha256.slice(0, 12)})\n`);
  out.write(`  inputs:  ${describeTensors(meta.inputs)}\n  outputs: ${describeTensors(meta.outputs)}\n`);
  if (opts.batch !== undefined) out.write(`  batching: ${opts.batch === 'off' ? 'off' : opts.batch.replace(',', ' rows / ') + ' ms'}\n`);
  for (const example of callExamples(client.endpoint, view.name, meta, view.routes)) out.write(`  ${example.label}:\n    ${example.command}\n`);
  out.write(`  invoke: modelfn invoke ${view.name} --data ${shellQuote(JSON.stringify(exampleRows({ inputs: meta.inputs })))}\n`);
}

/** --keep-alive-policy fixed|adaptive|default (default: the platform's; absent: keep the function's). */
export function keepAlivePolicyOption(value: string | undefined): 'fixed' | 'adaptive' | null | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'fixed' || v === 'adaptive') return v;
  if (v === 'default') return null;
  throw new CliError(`--keep-alive-policy must be fixed, adaptive or default, not ${JSON.stringify(value)}`);
}

/** --network allow|deny (absent: keep the function's). */
export function networkOption(value: string | undefined): 'allow' | 'deny' | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'allow' || v === 'deny') return v;
  throw new CliError(`--network must be allow or deny, not ${JSON.stringify(value)}`);
}

/** --batch "32,5" (rows, ms) or "off". */
export function parseBatch(text: string): { maxBatchSize: number; maxDelayMs: number } | null {
  if (text.trim().toLowerCase() === 'off') return null;
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(text);
  if (!m) throw new CliError(`--batch ${JSON.stringify(text)} must look like "maxBatchSize,maxDelayMs" (e.g. 32,5) or "off"`);
  return { maxBatchSize: Number(m[1]), maxDelayMs: Number(m[2]) };
}

function inferRuntime(dir: string): { runtime: string; handler: string } | undefined {
  for (const file of ['index.mjs', 'index.js', 'index.cjs']) {
    if (existsSync(join(dir, file))) return { runtime: 'nodejs20.x', handler: 'index.handler' };
  }
  if (existsSync(join(dir, 'lambda_function.py'))) return { runtime: 'python3.11', handler: 'lambda_function.lambda_handler' };
  if (existsSync(join(dir, 'bootstrap'))) return { runtime: 'provided.al2023', handler: 'bootstrap' };
  return undefined;
}

/** --route-auth aws_iam: every route of this deploy requires a SigV4 signature. */
function withRouteAuth<T extends object>(route: T, auth: string | undefined): T & { auth?: string } {
  if (auth === undefined) return route;
  if (auth !== 'none' && auth !== 'aws_iam') throw new CliError(`--route-auth must be none or aws_iam, not ${JSON.stringify(auth)}`);
  return { ...route, auth };
}

/** examples/iris-joblib/model.joblib is "iris-joblib": a file called just "model" names nothing. */
function defaultModelName(path: string, file: string): string {
  const stem = file.split('.')[0]!;
  const generic = /^(model|clf|classifier|regressor|estimator|pipeline)$/i.test(stem);
  const raw = generic ? basename(dirname(resolve(path))) : stem;
  return raw.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64) || 'model';
}

export function parseRoute(text: string, payloadFormat?: string): { method: string; path: string; qualifier?: string; payloadFormat?: string } {
  const trimmed = text.trim();
  if (trimmed === '$default') return { method: 'ANY', path: '$default', ...(payloadFormat ? { payloadFormat } : {}) };
  const match = /^([A-Za-z]+)\s+(\S+?)(?:\s+->\s*(\S+))?$/.exec(trimmed);
  if (!match) throw new CliError(`--route ${JSON.stringify(text)} must look like "POST /path" or "$default"`);
  return { method: match[1]!.toUpperCase(), path: match[2]!, ...(match[3] ? { qualifier: match[3] } : {}), ...(payloadFormat ? { payloadFormat } : {}) };
}

export function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--env ${JSON.stringify(pair)} must look like KEY=VALUE`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function intOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new CliError(`${flag} must be a whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
