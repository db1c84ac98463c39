import type { Datatype } from './datatypes.js';
import { elementProblem, isDatatype, isNumericDatatype, toValues } from './datatypes.js';
import { inputError, preview } from './errors.js';
import type { ModelSignature, TensorSpec } from './signature.js';
import { describeSpec } from './signature.js';
import type { Tensor } from './tensor.js';

/** An input as it arrives on the wire: nested or flat JSON data. */
export interface RawTensor {
  readonly name: unknown;
  readonly datatype?: unknown;
  readonly shape?: unknown;
  readonly data: unknown;
}

/** A request checked against the model: inputs in the model's order, outputs to return. */
export interface ModelRequest {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly string[];
}

const MAX_ELEMENTS = 50_000_000;

/**
 * Check inputs and the output selection against the signature and convert the data to typed
 * arrays. Throws ModelInputError naming the input and what the model expects. Datatypes must
 * match the model's, except that scikit-learn models take any numeric datatype (they compute in
 * float64 anyway). Inputs given without a datatype (row formats) take the model's.
 */
export function validateRequest(signature: ModelSignature, raw: readonly RawTensor[], outputs: readonly unknown[] | undefined): ModelRequest {
  const given = new Map<string, RawTensor>();
  // The envelope reaches here unchecked from any caller: every input must at least be an object.
  for (const [i, input] of raw.entries()) {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw inputError(`inputs[${i}] must be an object {name, shape, datatype, data}`);
    if (typeof input.name !== 'string' || input.name === '') throw inputError(`inputs[${i}] has no "name"`);
    if (given.has(input.name)) throw inputError(`input '${input.name}' is given twice`);
    if (!signature.inputs.some((s) => s.name === input.name)) {
      throw inputError(`unexpected input '${input.name}'; the model's inputs are: ${listSpecs(signature.inputs)}`);
    }
    given.set(input.name, input);
  }
  const inputs = signature.inputs.map((spec) => {
    const input = given.get(spec.name);
    if (!input) throw inputError(`missing input '${spec.name}' (expected ${describeSpec(spec)})`);
    return checkTensor(spec, input, signature.format === 'sklearn');
  });
  return { inputs, outputs: selectOutputs(signature, outputs) };
}

/** The outputs to compute: the named ones (checked), or every output when none are named. */
export function selectOutputs(signature: ModelSignature, outputs: readonly unknown[] | undefined): string[] {
  if (outputs !== undefined && !Array.isArray(outputs)) throw inputError('"outputs" must be an array of {name}');
  if (outputs === undefined || outputs.length === 0) return signature.outputs.map((s) => s.name);
  const names: string[] = [];
  for (const [i, o] of outputs.entries()) {
    const name = typeof o === 'string' ? o : typeof o === 'object' && o !== null ? (o as { name?: unknown }).name : undefined;
    if (typeof name !== 'string') throw inputError(`outputs[${i}] has no "name"`);
    if (!signature.outputs.some((s) => s.name === name)) {
      throw inputError(`unknown output '${name}'; the model's outputs are: ${signature.outputs.map((s) => s.name).join(', ')}`);
    }
    if (names.includes(name)) throw inputError(`output '${name}' is requested twice`);
    names.push(name);
  }
  return names;
}

function listSpecs(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `'${s.name}' ${describeSpec(s)}`).join(', ');
}

function checkTensor(spec: TensorSpec, input: RawTensor, anyNumeric: boolean): Tensor {
  const name = spec.name;
  // Only error messages need it: built on the way out, not for every request.
  const expected = { toString: () => describeSpec(spec) };
  let datatype: Datatype = spec.datatype;
  if (input.datatype !== undefined) {
    if (!isDatatype(input.datatype)) throw inputError(`input '${name}': unknown datatype ${preview(input.datatype)} (expected ${spec.datatype})`);
    const sent: Datatype = input.datatype;
    if (sent !== spec.datatype && !(anyNumeric && isNumericDatatype(sent) && isNumericDatatype(spec.datatype))) {
      throw inputError(`input '${name}': datatype ${sent} does not match the model's ${spec.datatype} (expected ${expected})`);
    }
    datatype = anyNumeric ? spec.datatype : sent;
  }
  if (!Array.isArray(input.data)) throw inputError(`input '${name}': "data" must be an array (expected ${expected})`);
  const nested = input.data.length > 0 && Array.isArray(input.data[0]);
  let shape: number[];
  if (input.shape === undefined) {
    shape = inferShape(input.data);
  } else {
    if (!Array.isArray(input.shape) || !input.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw inputError(`input '${name}': "shape" must be an array of non-negative integers (expected ${expected})`);
    }
    shape = input.shape as number[];
  }
  if (shape.length !== spec.shape.length) {
    throw inputError(`input '${name}': shape [${shape.join(', ')}] has ${shape.length} dimension${shape.length === 1 ? '' : 's'}; expected ${expected}`);
  }
  for (let i = 0; i < shape.length; i++) {
    const want = spec.shape[i]!;
    if (want >= 0 && shape[i] !== want) throw inputError(`input '${name}': shape [${shape.join(', ')}] does not match ${expected} (dimension ${i} must be ${want})`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > MAX_ELEMENTS) throw inputError(`input '${name}': ${count} elements is more than the limit of ${MAX_ELEMENTS}`);
  // [1e300, 0] holds no element, but no engine can make (or answer) a dimension that size.
  if (shape.some((d) => d > MAX_ELEMENTS)) throw inputError(`input '${name}': shape [${shape.join(', ')}] has a dimension over the limit of ${MAX_ELEMENTS}`);
  const flat = nested || shape.length > 1 && input.data.some(Array.isArray) ? flattenChecked(name, input.data, shape) : input.data;
  if (flat.length !== count) {
    throw inputError(`input '${name}': shape [${shape.join(', ')}] needs ${count} element${count === 1 ? '' : 's'} but "data" has ${flat.length}`);
  }
  for (let i = 0; i < flat.length; i++) {
    const problem = elementProblem(datatype, flat[i]);
    if (problem !== undefined) {
      throw inputError(`input '${name}': element ${i} is ${preview(flat[i])}, expected ${problem} (${datatype}; the model expects ${expected})`);
    }
  }
  return { name, datatype: spec.datatype, shape, data: toValues(spec.datatype, flat) };
}

/** The shape of nested JSON arrays, read from the first element at each level. */
export function inferShape(data: readonly unknown[]): number[] {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

/** Flatten nested data, insisting that every level has exactly the shape's length. */
function flattenChecked(name: string, data: readonly unknown[], shape: readonly number[]): unknown[] {
  const out: unknown[] = [];
  const walk = (value: unknown, level: number, path: string): void => {
    if (level === shape.length) {
      if (Array.isArray(value)) throw inputError(`input '${name}': data${path} is nested deeper than shape [${shape.join(', ')}]`);
      out.push(value);
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[level]) {
      const got = Array.isArray(value) ? `${value.length} elements` : preview(value);
      throw inputError(`input '${name}': data${path} should hold ${shape[level]} elements (shape [${shape.join(', ')}]) but holds ${got}`);
    }
    for (let i = 0; i < value.length; i++) walk(value[i], level + 1, `${path}[${i}]`);
  };
  walk(data, 0, '');
  return out;
}
