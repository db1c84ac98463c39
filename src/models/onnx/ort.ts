import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;

let loaded: OrtModule | undefined;

/**
 * ONNX Runtime, loaded on first use with its telemetry off. From 1.29 the Linux build carries
 * 1DS telemetry that uploads events and persists a device id under ~/.cache; the documented
 * opt-out is ORT_DISABLE_TELEMETRY=1 in the process environment before the runtime
 * initialises. (Model instances also get it in their environment at spawn.)
 */
export function loadOrt(): OrtModule {
  if (loaded) return loaded;
  process.env.ORT_DISABLE_TELEMETRY = '1';
  const require = createRequire(import.meta.url);
  const ort = require('onnxruntime-node') as OrtModule;
  ort.env.logLevel = 'error';
  loaded = ort;
  return ort;
}
