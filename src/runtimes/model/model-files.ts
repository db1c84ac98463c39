import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { ModelFormat } from '../../models/codecs/signature.js';
import { ModelfnError } from '../../shared/errors.js';

const COMPRESSION = /\.(gz|z|bz2|xz|lzma)$/i;

/** The model format a file name says: .onnx, or scikit-learn's .joblib / .pkl / .pickle (optionally compressed). */
export function modelFormatOf(fileName: string): ModelFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.onnx')) return 'onnx';
  const base = lower.replace(COMPRESSION, '');
  if (base.endsWith('.joblib') || base.endsWith('.pkl') || base.endsWith('.pickle')) return 'sklearn';
  return undefined;
}

export const MODEL_EXTENSIONS = '.onnx, .joblib, .pkl or .pickle (scikit-learn files may also end in .gz, .z, .bz2, .xz or .lzma)';

/** The handler of a model function is the model file's path inside the bundle. */
export function checkModelHandler(handler: string): ModelFormat {
  if (isAbsolute(handler) || handler.split(/[\\/]/).some((part) => part === '..' || part === '')) {
    throw new ModelfnError('INVALID_PARAMETER', `handler ${JSON.stringify(handler)} must be the model file's path inside the bundle (e.g. model.onnx)`);
  }
  const format = modelFormatOf(handler);
  if (!format) {
    throw new ModelfnError('INVALID_PARAMETER', `handler ${JSON.stringify(handler)} is not a model file: the model runtime serves ${MODEL_EXTENSIONS}`);
  }
  return format;
}

/** The model file inside an unpacked bundle: a regular file that stays inside the bundle. */
export async function resolveModelFile(codeDir: string, handler: string): Promise<string> {
  const path = join(codeDir, handler);
  const info = await lstat(path).catch(() => undefined);
  if (!info) throw new ModelfnError('INVALID_BUNDLE', `the bundle has no file ${handler} (the handler of a model function names its model file)`);
  if (!info.isFile()) throw new ModelfnError('INVALID_BUNDLE', `${handler} in the bundle is not a regular file`);
  const real = await realpath(path);
  const root = await realpath(codeDir);
  const rel = relative(root, real);
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) throw new ModelfnError('INVALID_BUNDLE', `${handler} points outside the bundle`);
  return real;
}
