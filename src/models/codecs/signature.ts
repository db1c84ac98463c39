import type { Datatype } from './datatypes.js';

/** One input or output of a model: Open Inference Protocol metadata (-1 = any size). */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

export type ModelFormat = 'onnx' | 'sklearn';

export type ClassLabel = number | string | boolean;

/**
 * What the platform knows about a deployed model without loading it: read from the model at
 * deploy time and stored with the function version, so validation, metadata and batching never
 * need a running instance.
 */
export interface ModelSignature {
  readonly format: ModelFormat;
  /** Open Inference Protocol "platform": onnxruntime_onnx or sklearn. */
  readonly platform: string;
  /** The estimator class (scikit-learn) or producer and graph name (ONNX). */
  readonly description: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** The output the row formats return (labels for classifiers, values for regressors). */
  readonly predictOutput: string;
  /** Class probabilities, when the model has them (`?proba=1`, OIP output selection). */
  readonly probaOutput?: string;
  readonly classes?: readonly ClassLabel[];
  /** Column names the model was fitted on (scikit-learn `feature_names_in_`). */
  readonly featureNames?: readonly string[];
  /** Every input and output has a variable leading dimension: requests can be merged into one call. */
  readonly batchable: boolean;
  /** Notes for the operator (e.g. labels derived from probabilities). */
  readonly notes?: readonly string[];
}

/** "FP32 [-1, 3]" */
export function describeSpec(spec: Pick<TensorSpec, 'datatype' | 'shape'>): string {
  return `${spec.datatype} [${spec.shape.join(', ')}]`;
}

export function findInput(signature: ModelSignature, name: string): TensorSpec | undefined {
  return signature.inputs.find((s) => s.name === name);
}

export function findOutput(signature: ModelSignature, name: string): TensorSpec | undefined {
  return signature.outputs.find((s) => s.name === name);
}

/** A plausible value of one element, for examples. */
function exampleElement(datatype: Datatype, i: number): number | string | boolean {
  if (datatype === 'BOOL') return i % 2 === 0;
  if (datatype === 'BYTES') return 'text';
  if (datatype.startsWith('FP')) return Math.round((1 + i * 0.5) * 10) / 10;
  return i + 1;
}

/** One row's value for an input (its shape without the batch dimension), nested. */
function exampleRowValue(spec: TensorSpec): unknown {
  const dims = spec.shape.slice(1).map((d) => (d < 0 ? 1 : d));
  let counter = 0;
  const build = (level: number): unknown => {
    if (level === dims.length) return exampleElement(spec.datatype, counter++);
    return Array.from({ length: dims[level]! }, () => build(level + 1));
  };
  return build(0);
}

/**
 * An example body for the row formats (the seed's JSON array of rows, V1 `instances`): one row
 * built from the model's signature. Multi-input models take rows keyed by input name.
 */
export function exampleRows(signature: Pick<ModelSignature, 'inputs'>): unknown[] {
  if (signature.inputs.length === 1) return [exampleRowValue(signature.inputs[0]!)];
  return [Object.fromEntries(signature.inputs.map((spec) => [spec.name, exampleRowValue(spec)]))];
}

/** An example Open Inference Protocol request with one row per input. */
export function exampleInferRequest(signature: Pick<ModelSignature, 'inputs'>): { inputs: Array<{ name: string; shape: number[]; datatype: Datatype; data: unknown[] }> } {
  return {
    inputs: signature.inputs.map((spec) => {
      const shape = spec.shape.map((d) => (d < 0 ? 1 : d));
      const count = shape.reduce((a, b) => a * b, 1);
      return { name: spec.name, shape, datatype: spec.datatype, data: Array.from({ length: count }, (_, i) => exampleElement(spec.datatype, i)) };
    }),
  };
}
