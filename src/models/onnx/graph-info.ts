import { ProtobufError, fields, pushInts, text } from './protobuf.js';

/**
 * What modelfn reads from an ONNX file besides what ONNX Runtime reports: the producer, the
 * opsets, and the classifier nodes whose outputs are graph outputs (to fix their labels).
 */
export interface OnnxGraphInfo {
  readonly irVersion: number;
  readonly producer: string;
  readonly graphName: string;
  readonly opsets: Readonly<Record<string, number>>;
  readonly outputs: readonly string[];
  readonly classifiers: readonly ClassifierNode[];
}

/** An ai.onnx.ml classifier node: outputs are [label, scores/probabilities]. */
export interface ClassifierNode {
  readonly opType: string;
  readonly labelOutput: string;
  readonly scoresOutput: string | undefined;
  readonly classLabels: readonly (number | string)[];
  readonly postTransform: string;
}

const CLASSIFIER_OPS = new Set(['TreeEnsembleClassifier', 'LinearClassifier', 'SVMClassifier']);

export function readGraphInfo(model: Uint8Array): OnnxGraphInfo {
  let irVersion = 0;
  let producer = '';
  let graph: Uint8Array | undefined;
  const opsets: Record<string, number> = {};
  for (const f of fields(model)) {
    if (f.number === 1 && f.wire === 0) irVersion = f.int;
    else if (f.number === 2 && f.wire === 2) producer = text(f.bytes);
    else if (f.number === 7 && f.wire === 2) graph = f.bytes;
    else if (f.number === 8 && f.wire === 2) {
      let domain = '';
      let version = 0;
      for (const g of fields(f.bytes)) {
        if (g.number === 1 && g.wire === 2) domain = text(g.bytes);
        else if (g.number === 2 && g.wire === 0) version = g.int;
      }
      opsets[domain || 'ai.onnx'] = version;
    }
  }
  if (!graph) throw new ProtobufError('the file has no graph (is it an ONNX model?)');
  let graphName = '';
  const outputs: string[] = [];
  const nodes: Uint8Array[] = [];
  for (const f of fields(graph)) {
    if (f.number === 1 && f.wire === 2) nodes.push(f.bytes);
    else if (f.number === 2 && f.wire === 2) graphName = text(f.bytes);
    else if (f.number === 12 && f.wire === 2) {
      for (const g of fields(f.bytes)) if (g.number === 1 && g.wire === 2) outputs.push(text(g.bytes));
    }
  }
  const classifiers: ClassifierNode[] = [];
  for (const bytes of nodes) {
    const node = readNode(bytes);
    if (node.domain !== 'ai.onnx.ml' || !CLASSIFIER_OPS.has(node.opType) || node.outputs.length === 0) continue;
    classifiers.push({
      opType: node.opType,
      labelOutput: node.outputs[0]!,
      scoresOutput: node.outputs[1],
      classLabels: node.classLabels,
      postTransform: node.postTransform,
    });
  }
  return { irVersion, producer, graphName, opsets, outputs, classifiers };
}

interface NodeFields {
  opType: string;
  domain: string;
  outputs: string[];
  classLabels: Array<number | string>;
  postTransform: string;
}

function readNode(bytes: Uint8Array): NodeFields {
  const node: NodeFields = { opType: '', domain: '', outputs: [], classLabels: [], postTransform: 'NONE' };
  for (const f of fields(bytes)) {
    if (f.wire !== 2) continue;
    if (f.number === 2) node.outputs.push(text(f.bytes));
    else if (f.number === 4) node.opType = text(f.bytes);
    else if (f.number === 7) node.domain = text(f.bytes);
    else if (f.number === 5) readAttribute(f.bytes, node);
  }
  return node;
}

function readAttribute(bytes: Uint8Array, node: NodeFields): void {
  let name = '';
  const ints: number[] = [];
  const strings: string[] = [];
  let s: string | undefined;
  for (const f of fields(bytes)) {
    if (f.number === 1 && f.wire === 2) name = text(f.bytes);
    else if (f.number === 4 && f.wire === 2) s = text(f.bytes);
    else if (f.number === 8) pushInts(f, ints);
    else if (f.number === 9 && f.wire === 2) strings.push(text(f.bytes));
  }
  if (name === 'classlabels_int64s') node.classLabels = ints;
  else if (name === 'classlabels_strings') node.classLabels = strings;
  else if (name === 'post_transform' && s !== undefined) node.postTransform = s;
}
