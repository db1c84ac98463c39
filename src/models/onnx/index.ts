/** ONNX models through ONNX Runtime (onnxruntime-node, CPU), telemetry off. */
export { OnnxLoadError, OnnxModel } from './onnx-model.js';
export type { OnnxOptions } from './onnx-model.js';
export { readGraphInfo } from './graph-info.js';
export type { ClassifierNode, OnnxGraphInfo } from './graph-info.js';
export { loadOrt } from './ort.js';
