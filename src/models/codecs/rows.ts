import { elementProblem } from './datatypes.js';
import { inputError, preview } from './errors.js';
import type { ModelSignature, TensorSpec } from './signature.js';
import { describeSpec } from './signature.js';
import type { Tensor } from './tensor.js';
import { nest, rowWidth } from './tensor.js';
import type { RawTensor } from './validate.js';
import { inferShape } from './validate.js';

/**
 * The row formats: the seed's JSON array of rows, KServe V1 / TF Serving `instances`. A row is
 * one example: for a single-input model, that input's value for one example (an array of
 * features for tabular models); for a multi-input model, an object keyed by input name. Models
 * fitted on named columns also take objects keyed by feature name.
 */
export function rowsToInputs(signature: ModelSignature, rows: unknown, where = 'body'): RawTensor[] {
  if (!Array.isArray(rows)) throw inputError(`${where} must be a JSON array of rows, e.g. [[5.1, 3.5, 1.4, 0.2]]`);
  if (rows.length === 0) throw inputError(`${where} holds no rows`);
  const objects = rows.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r));
  if (objects && signature.featureNames && signature.inputs.length === 1) {
    return [featureRows(signature.inputs[0]!, signature.featureNames, rows as Record<string, unknown>[])];
  }
  if (signature.inputs.length === 1 && !objects) return [arrayRows(signature.inputs[0]!, rows)];
  if (!objects) {
    throw inputError(`this model has ${signature.inputs.length} inputs (${signature.inputs.map((s) => s.name).join(', ')}): each row must be an object keyed by input name`);
  }
  return signature.inputs.map((spec) => {
    const values = (rows as Record<string, unknown>[]).map((row, i) => {
      if (!(spec.name in row)) throw inputError(`row ${i} has no value for input '${spec.name}' (expected ${describeSpec(spec)})`);
      return row[spec.name];
    });
    for (const [i, row] of (rows as Record<string, unknown>[]).entries()) {
      const extra = Object.keys(row).find((k) => !signature.inputs.some((s) => s.name === k));
      if (extra !== undefined) throw inputError(`row ${i} has unexpected input '${extra}'; the model's inputs are: ${signature.inputs.map((s) => s.name).join(', ')}`);
    }
    return arrayRows(spec, values);
  });
}

/** Rows of one input: checked here so the messages speak of rows and features. */
function arrayRows(spec: TensorSpec, rows: unknown[]): RawTensor {
  if (spec.shape.length === 2) {
    const width = spec.shape[1]!;
    const expected = width >= 0 ? width : Array.isArray(rows[0]) ? rows[0].length : -1;
    for (const [i, row] of rows.entries()) {
      if (!Array.isArray(row)) {
        throw inputError(`row ${i} must be an array of ${width >= 0 ? width : 'the'} values (input '${spec.name}' ${describeSpec(spec)}), not ${preview(row)}`);
      }
      if (row.length !== expected) {
        throw inputError(`row ${i} has ${row.length} value${row.length === 1 ? '' : 's'}; the model takes ${expected} (input '${spec.name}' ${describeSpec(spec)})`);
      }
      for (const [j, v] of row.entries()) {
        const problem = elementProblem(spec.datatype, v);
        if (problem !== undefined) {
          throw inputError(`row ${i}, column ${j}: ${preview(v)} is not ${problem} (input '${spec.name}' ${describeSpec(spec)})`);
        }
      }
    }
    return { name: spec.name, shape: [rows.length, expected], data: rows };
  }
  const rest = rows.length > 0 ? inferShape([rows[0]]).slice(1) : [];
  return { name: spec.name, shape: [rows.length, ...rest], data: rows };
}

function featureRows(spec: TensorSpec, names: readonly string[], rows: Record<string, unknown>[]): RawTensor {
  const data = rows.map((row, i) => {
    for (const key of Object.keys(row)) {
      if (!names.includes(key)) throw inputError(`row ${i} has unknown feature '${key}'; the model's features are: ${names.join(', ')}`);
    }
    return names.map((n) => {
      if (!(n in row)) throw inputError(`row ${i} has no value for feature '${n}'`);
      return row[n];
    });
  });
  return arrayRows(spec, data);
}

/** One output as a list of per-row values: scalars for one value per row, nested arrays otherwise. */
export function outputRows(tensor: Tensor): unknown[] {
  const rows = tensor.shape.length === 0 ? 1 : tensor.shape[0]!;
  const width = rowWidth(tensor);
  const data = tensor.data as ArrayLike<unknown>;
  const out = new Array<unknown>(rows);
  if (width === 1) {
    for (let i = 0; i < rows; i++) out[i] = data[i];
    return out;
  }
  const dims = tensor.shape.slice(1);
  for (let i = 0; i < rows; i++) out[i] = nest(data, dims, i * width);
  return out;
}
