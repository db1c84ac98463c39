import type * as Ort from 'onnxruntime-node';
import type { Datatype, TensorValues } from '../codecs/datatypes.js';
import { ModelInputError } from '../codecs/errors.js';
import type { ClassLabel, ModelSignature, TensorSpec } from '../codecs/signature.js';
import type { Tensor } from '../codecs/tensor.js';
import type { ModelRequest } from '../codecs/validate.js';
import type { ClassifierNode, OnnxGraphInfo } from './graph-info.js';
import { readGraphInfo } from './graph-info.js';
import { fromHalf, toHalf } from './half.js';
import { loadOrt } from './ort.js';

/** The model cannot be served (not ONNX, unsupported input types, no tensor outputs, ...). */
export class OnnxLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxLoadError';
  }
}

export interface OnnxOptions {
  /** Threads for one inference call. An instance serves one call at a time and the pool scales
   * instances across cores, so 1 is the default; raise it for few, large calls. */
  readonly intraOpThreads?: number;
}

const ORT_TO_OIP: Readonly<Record<string, Datatype>> = {
  float32: 'FP32', float64: 'FP64', float16: 'FP16', int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64', bool: 'BOOL', string: 'BYTES',
};
const OIP_TO_ORT = Object.fromEntries(Object.entries(ORT_TO_OIP).map(([k, v]) => [v, k])) as Record<Datatype, Ort.Tensor.Type>;

/** Labels recomputed from the probabilities (ONNX Runtime's own label is wrong for some tree models). */
interface LabelFix {
  readonly label: string;
  readonly scores: string;
  readonly classes: readonly (number | string)[];
  readonly labelType: Datatype;
}

/** An ONNX model in ONNX Runtime, with its Open Inference Protocol signature. */
export class OnnxModel {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly signature: ModelSignature,
    readonly graph: OnnxGraphInfo,
    private readonly labelFix: LabelFix | undefined,
  ) {}

  static async load(bytes: Uint8Array, options: OnnxOptions = {}): Promise<OnnxModel> {
    let graph: OnnxGraphInfo;
    try {
      graph = readGraphInfo(bytes);
    } catch (err) {
      throw new OnnxLoadError(`not a readable ONNX model: ${(err as Error).message}`);
    }
    const ort = loadOrt();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: options.intraOpThreads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
    } catch (err) {
      throw new OnnxLoadError(`ONNX Runtime cannot load the model: ${(err as Error).message}`);
    }
    try {
      const { signature, labelFix } = describe(session, graph);
      return new OnnxModel(ort, session, signature, graph, labelFix);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** Run one (validated) request: inputs in the model's datatypes, outputs by name. */
  async run(request: ModelRequest): Promise<Tensor[]> {
    const feeds: Record<string, Ort.Tensor> = {};
    for (const t of request.inputs) feeds[t.name] = this.toOrt(t);
    const fetch = [...request.outputs];
    const fix = this.labelFix;
    if (fix && fetch.includes(fix.label) && !fetch.includes(fix.scores)) fetch.push(fix.scores);
    let results: Ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds, fetch);
    } catch (err) {
      // Shapes and types were checked; what is left is a value the model rejects (e.g. an index).
      throw new ModelInputError(`the model rejected the input: ${(err as Error).message}`);
    }
    const outputs = request.outputs.map((name) => fromOrt(name, results[name]!));
    if (fix && request.outputs.includes(fix.label)) {
      const at = request.outputs.indexOf(fix.label);
      outputs[at] = labelsFromScores(fix, fromOrt(fix.scores, results[fix.scores]!));
    }
    return outputs;
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private toOrt(t: Tensor): Ort.Tensor {
    const type = OIP_TO_ORT[t.datatype];
    let data: unknown = t.data;
    if (t.datatype === 'BOOL') data = Uint8Array.from(t.data as boolean[], (b) => (b ? 1 : 0));
    else if (t.datatype === 'FP16') data = Uint16Array.from(t.data as number[], toHalf);
    return new this.ort.Tensor(type as 'float32', data as Float32Array, t.shape as number[]);
  }
}

function fromOrt(name: string, value: Ort.OnnxValue): Tensor {
  const datatype = ORT_TO_OIP[value.type];
  if (!datatype) throw new Error(`output '${name}' has type ${value.type}, which cannot be returned`);
  let data = value.data as unknown as TensorValues;
  if (datatype === 'BOOL') data = Array.from(value.data as Uint8Array, (b) => b !== 0);
  else if (datatype === 'FP16') data = Array.from(value.data as Uint16Array, fromHalf);
  return { name, datatype, shape: [...value.dims], data };
}

function labelsFromScores(fix: LabelFix, scores: Tensor): Tensor {
  const n = scores.shape[0] ?? 0;
  const k = fix.classes.length;
  const p = scores.data as Float32Array;
  const labels: Array<number | string> = new Array<number | string>(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j]! > p[i * k + best]!) best = j;
    labels[i] = fix.classes[best]!;
  }
  const data: TensorValues = fix.labelType === 'INT64' ? BigInt64Array.from(labels as number[], (v) => BigInt(v)) : (labels as string[]);
  return { name: fix.label, datatype: fix.labelType, shape: [n], data };
}

function spec(meta: Ort.InferenceSession.TensorValueMetadata, what: string): TensorSpec {
  const datatype = ORT_TO_OIP[meta.type];
  if (!datatype) throw new OnnxLoadError(`${what} '${meta.name}' has element type ${meta.type}, which modelfn cannot serve`);
  return { name: meta.name, datatype, shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

function describe(session: Ort.InferenceSession, graph: OnnxGraphInfo): { signature: ModelSignature; labelFix: LabelFix | undefined } {
  const notes: string[] = [];
  const inputs = session.inputMetadata.map((m) => {
    if (!m.isTensor) throw new OnnxLoadError(`input '${m.name}' is not a tensor (sequence and map inputs are not supported)`);
    return spec(m, 'input');
  });
  const outputs: TensorSpec[] = [];
  for (const m of session.outputMetadata) {
    if (!m.isTensor) {
      notes.push(`output '${m.name}' is not a tensor (e.g. a ZipMap) and is not served; export without ZipMap to get it as a tensor`);
      continue;
    }
    outputs.push(spec(m, 'output'));
  }
  if (inputs.length === 0) throw new OnnxLoadError('the model has no inputs');
  if (outputs.length === 0) throw new OnnxLoadError('the model has no tensor outputs to serve');
  const byName = new Map(outputs.map((o) => [o.name, o]));
  let labelFix: LabelFix | undefined;
  let predictOutput = outputs[0]!.name;
  let probaOutput: string | undefined;
  let classes: ClassLabel[] | undefined;
  const classifier = graph.classifiers.find((c) => byName.has(c.labelOutput));
  if (classifier) {
    predictOutput = classifier.labelOutput;
    const scores = classifier.scoresOutput !== undefined ? byName.get(classifier.scoresOutput) : undefined;
    if (scores) probaOutput = scores.name;
    if (classifier.classLabels.length > 0) classes = [...classifier.classLabels];
    labelFix = fixFor(classifier, byName.get(classifier.labelOutput)!, scores);
    if (labelFix) notes.push(`labels of '${labelFix.label}' are taken from the highest score in '${labelFix.scores}' (ONNX Runtime's own ${classifier.opType} label is wrong for some two-class models)`);
  }
  const batchable = [...inputs, ...outputs].every((s) => s.shape.length >= 1 && s.shape[0] === -1);
  const description = [graph.producer || 'onnx', graph.graphName].filter(Boolean).join(' ');
  return {
    signature: {
      format: 'onnx',
      platform: 'onnxruntime_onnx',
      description,
      inputs,
      outputs,
      predictOutput,
      ...(probaOutput ? { probaOutput } : {}),
      ...(classes ? { classes } : {}),
      batchable,
      ...(notes.length > 0 ? { notes } : {}),
    },
    labelFix,
  };
}

/** Tree ensembles whose scores are a [N, classes] tensor next to the label get their label from the scores. */
function fixFor(node: ClassifierNode, label: TensorSpec, scores: TensorSpec | undefined): LabelFix | undefined {
  if (node.opType !== 'TreeEnsembleClassifier' || !scores || node.classLabels.length < 2) return undefined;
  if (scores.shape.length !== 2 || (scores.shape[1] !== -1 && scores.shape[1] !== node.classLabels.length)) return undefined;
  if (!scores.datatype.startsWith('FP')) return undefined;
  if (label.datatype !== 'INT64' && label.datatype !== 'BYTES') return undefined;
  return { label: label.name, scores: scores.name, classes: node.classLabels, labelType: label.datatype };
}
