import { OnnxLoadError, OnnxModel } from '../../../models/onnx/index.js';
import type { EngineFactory } from './engine.js';
import { ModelLoadError } from './engine.js';

/** ONNX models through ONNX Runtime. */
export const onnxFactory: EngineFactory = {
  format: 'onnx',
  async load(bytes, options) {
    try {
      return await OnnxModel.load(bytes, { intraOpThreads: options.intraOpThreads });
    } catch (err) {
      if (err instanceof OnnxLoadError) throw new ModelLoadError(err.message);
      throw err;
    }
  },
  async warmUp(bytes) {
    const model = await OnnxModel.load(bytes);
    const input = model.signature.inputs[0]!;
    const width = input.shape.slice(1).reduce((a, d) => a * (d < 0 ? 1 : d), 1);
    await model.run({ inputs: [{ name: input.name, datatype: input.datatype, shape: [1, ...input.shape.slice(1).map((d) => (d < 0 ? 1 : d))], data: new Float32Array(width) }], outputs: model.signature.outputs.map((o) => o.name) });
    await model.release();
  },
};
