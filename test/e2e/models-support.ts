// Helpers shared by the model e2e tests: deploy a model file, call JSON endpoints, find host processes.
import { readFile, readdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { zipSync } from 'fflate';

export interface ModelDeploy {
  readonly memoryMb?: number;
  readonly keepAliveSec?: number | null;
  readonly reservedConcurrency?: number | null;
  readonly batching?: { maxBatchSize: number; maxDelayMs: number } | null;
  readonly routes?: Array<{ method: string; path: string; payloadFormat?: string }>;
  readonly handler?: string;
}

/** Zip one model file and deploy it with the model runtime (what `modelfn deploy model.onnx` does). */
export async function deployModel(url: string, name: string, file: string, spec: ModelDeploy = {}): Promise<Response> {
  const handler = spec.handler ?? basename(file);
  const zip = Buffer.from(zipSync({ [handler]: await readFile(file) }));
  const upload = await fetch(`${url}/_modelfn/v1/bundles`, { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
  if (upload.status !== 201) return upload;
  const { sha256 } = (await upload.json()) as { sha256: string };
  const { handler: _h, ...rest } = spec;
  return fetch(`${url}/_modelfn/v1/functions/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ runtime: 'model', handler, memoryMb: 256, timeoutSec: 10, ...rest, code: { sha256 } }),
  });
}

export async function mustDeployModel(url: string, name: string, file: string, spec: ModelDeploy = {}): Promise<void> {
  const res = await deployModel(url, name, file, spec);
  if (res.status !== 200 && res.status !== 201) throw new Error(`deploy ${name} failed: ${res.status} ${await res.text()}`);
}

export interface JsonAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: any;
}

/** POST (or GET without a body) and read the answer as JSON when it is JSON. */
export async function call(url: string, path: string, body?: unknown, init: RequestInit = {}): Promise<JsonAnswer> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    ...init,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Model host processes (spares and instances) whose parent is the given platform process. */
export async function modelHostPids(platformPid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('runtimes/model/host/index.js')) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === platformPid) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}
