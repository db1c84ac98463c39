import type { Datatype, TensorValues } from '../../../models/codecs/datatypes.js';
import { ModelInputError } from '../../../models/codecs/errors.js';
import type { ModelSignature, TensorSpec } from '../../../models/codecs/signature.js';
import type { Tensor } from '../../../models/codecs/tensor.js';
import type { ModelRequest } from '../../../models/codecs/validate.js';
import { SklearnInputError, SklearnLoadError, loadSklearnModel } from '../../../models/sklearn/index.js';
import type { Label, TabularModel } from '../../../models/sklearn/index.js';
import type { Engine, EngineFactory } from './engine.js';
import { ModelLoadError } from './engine.js';

/**
 * scikit-learn models through modelfn's own reader and estimators (no Python). Outputs are named
 * after the estimator's methods, as MLServer's scikit-learn runtime names them: `predict`,
 * `predict_proba` (classifiers), `transform` (transformers).
 */
export const sklearnFactory: EngineFactory = {
  format: 'sklearn',
  async load(bytes) {
    let model: TabularModel;
    try {
      model = loadSklearnModel(bytes);
    } catch (err) {
      if (err instanceof SklearnLoadError) throw new ModelLoadError(err.message);
      throw err;
    }
    return new SklearnEngine(model);
  },
  async warmUp(bytes) {
    const model = loadSklearnModel(bytes);
    const rows = new Float64Array(model.nFeatures * 8).map((_, i) => (i % 7) * 0.7);
    model.predict(rows, 8);
    model.predictProba?.(rows, 8);
  },
};

class SklearnEngine implements Engine {
  readonly signature: ModelSignature;
  private readonly labelType: Datatype;

  constructor(private readonly model: TabularModel) {
    this.labelType = labelDatatype(model.classes);
    const n = model.nFeatures;
    const inputs: TensorSpec[] = [{ name: 'input', datatype: 'FP64', shape: [-1, n] }];
    const outputs: TensorSpec[] = [];
    if (model.task === 'classification') {
      outputs.push({ name: 'predict', datatype: this.labelType, shape: [-1] });
      if (model.predictProba) outputs.push({ name: 'predict_proba', datatype: 'FP64', shape: [-1, model.classes?.length ?? -1] });
    } else if (model.task === 'regression') {
      outputs.push({ name: 'predict', datatype: 'FP64', shape: model.nOutputs === 1 ? [-1] : [-1, model.nOutputs] });
    } else {
      outputs.push({ name: 'transform', datatype: 'FP64', shape: [-1, model.nOutputs] });
    }
    this.signature = {
      format: 'sklearn',
      platform: 'sklearn',
      description: model.estimator,
      inputs,
      outputs,
      predictOutput: outputs[0]!.name,
      ...(outputs.some((o) => o.name === 'predict_proba') ? { probaOutput: 'predict_proba' } : {}),
      ...(model.classes ? { classes: [...model.classes] } : {}),
      ...(model.featureNames ? { featureNames: [...model.featureNames] } : {}),
      batchable: true,
    };
  }

  run(request: ModelRequest): Tensor[] {
    const input = request.inputs[0]!;
    const rows = input.data as Float64Array;
    const n = input.shape[0]!;
    try {
      return request.outputs.map((name) => this.output(name, rows, n));
    } catch (err) {
      if (err instanceof SklearnInputError) throw new ModelInputError(`input 'input': ${err.message}`);
      throw err;
    }
  }

  private output(name: string, rows: Float64Array, n: number): Tensor {
    const m = this.model;
    if (name === 'predict_proba') {
      const k = m.classes!.length;
      return { name, datatype: 'FP64', shape: [n, k], data: m.predictProba!(rows, n) };
    }
    if (name === 'transform') return { name, datatype: 'FP64', shape: [n, m.nOutputs], data: m.transform!(rows, n) };
    const predicted = m.predict(rows, n);
    if (m.task !== 'classification') {
      return { name, datatype: 'FP64', shape: m.nOutputs === 1 ? [n] : [n, m.nOutputs], data: predicted as Float64Array };
    }
    return { name, datatype: this.labelType, shape: [n], data: labels(this.labelType, predicted as Label[]) };
  }
}

function labelDatatype(classes: readonly Label[] | undefined): Datatype {
  if (!classes || classes.length === 0) return 'FP64';
  if (classes.every((c) => typeof c === 'boolean')) return 'BOOL';
  if (classes.every((c) => typeof c === 'number' && Number.isSafeInteger(c))) return 'INT64';
  if (classes.every((c) => typeof c === 'number')) return 'FP64';
  return 'BYTES';
}

function labels(datatype: Datatype, values: readonly Label[]): TensorValues {
  switch (datatype) {
    case 'BOOL':
      return values as boolean[];
    case 'INT64':
      return values as number[];
    case 'FP64':
      return Float64Array.from(values as number[]);
    default:
      return values.map(String);
  }
}
