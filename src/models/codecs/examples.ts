import type { ModelSignature, TensorSpec } from './signature.js';
import { describeSpec, exampleInferRequest, exampleRows } from './signature.js';

/** One ready-to-run request per wire format, built from a model's signature. */
export interface CallExample {
  readonly label: string;
  readonly command: string;
}

/** Quote for a POSIX shell (single quotes; embedded ones closed, escaped and reopened). */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function curl(url: string, body: unknown): string {
  return `curl -s -X POST ${shellQuote(url)} -H 'content-type: application/json' -d ${shellQuote(JSON.stringify(body))}`;
}

/**
 * curl lines for a deployed model function: its routes (the seed's rows), Open Inference
 * Protocol and KServe V1, with an example input made from the model's inputs.
 */
export function callExamples(endpoint: string, name: string, signature: Pick<ModelSignature, 'inputs'>, routes: ReadonlyArray<{ method: string; path: string }>): CallExample[] {
  const base = endpoint.replace(/\/+$/, '');
  const rows = exampleRows(signature);
  const out: CallExample[] = [];
  for (const route of routes) {
    const path = route.path === '$default' ? '/' : route.path.replace(/\{[^}]+\}/g, 'x');
    out.push({ label: `route ${route.method} ${route.path}`, command: curl(`${base}${path}`, rows) });
  }
  out.push({ label: 'Open Inference Protocol', command: curl(`${base}/v2/models/${name}/infer`, exampleInferRequest(signature)) });
  out.push({ label: 'KServe V1', command: curl(`${base}/v1/models/${name}:predict`, { instances: rows }) });
  return out;
}

/** "input FP64 [-1, 4]; ..." */
export function describeTensors(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `${s.name} ${describeSpec(s)}`).join(', ');
}
