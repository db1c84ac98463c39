/**
 * Which pickle globals (module + name) a model file may reference.
 *
 * The reader never calls anything, so the allow-list is not what makes loading safe by
 * itself; it keeps the accepted vocabulary small and makes a tampered file fail loudly at the
 * first foreign reference (`os.system`, `builtins.eval`, `subprocess.Popen`, ...), naming it.
 *
 * Three groups:
 *  - EMULATED: a handful of pure numpy/stdlib constructors whose effect the reader
 *    reproduces itself on data (numpy arrays, dtypes, scalars, bytes via `_codecs.encode`);
 *  - INERT: classes/constructors kept as plain data objects (joblib's array wrapper, numpy's
 *    RandomState constructors that sklearn estimators carry in `_rng`/`random_state`);
 *  - scikit-learn classes: any CamelCase name in an `sklearn.*` module. They only ever
 *    become data records; whether an estimator is *served* is decided later, so an SVC
 *    fails as "unsupported estimator sklearn.svm._classes.SVC" rather than here.
 *    Lower-case sklearn names (functions) are refused like any other callable.
 */
import { SklearnLoadError } from '../errors.js';
import { PyGlobal } from './values.js';

/** Globals whose effect reader.ts computes itself (see numpy/reduce.ts, reader.ts). */
export const EMULATED = new Set([
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  'numpy.core.numeric._frombuffer',
  'numpy._core.numeric._frombuffer',
  'numpy.dtype',
  'numpy.ndarray',
  '_codecs.encode', // how protocol 2 spells a bytes object: _codecs.encode(str, 'latin1')
  'builtins.set',
  'builtins.frozenset',
  'builtins.bytearray',
  'collections.OrderedDict',
]);

const INERT = new Set([
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
  // recognised only to reject them with a precise message (arrays live in side files)
  'joblib.numpy_pickle_compat.NDArrayWrapper',
  'joblib.numpy_pickle_compat.ZNDArrayWrapper',
  'joblib.numpy_pickle.NDArrayWrapper',
  'joblib.numpy_pickle.ZNDArrayWrapper',
  // numpy.random.RandomState pickles through these constructors (GradientBoosting keeps one)
  'numpy.random._pickle.__randomstate_ctor',
  'numpy.random._pickle.__bit_generator_ctor',
  'numpy.random._pickle.__generator_ctor',
  'numpy.random._mt19937.MT19937',
  'numpy.random.mtrand.RandomState',
  // joblib records the array subclass; memmaps are read as plain arrays
  'numpy.core.memmap.memmap',
  'numpy._core.memmap.memmap',
]);

/** numpy scalar types appear as plain class references (e.g. a `dtype=np.float64` param). */
const NUMPY_TYPES = new Set([
  'float64', 'float32', 'float16', 'int64', 'int32', 'int16', 'int8',
  'uint64', 'uint32', 'uint16', 'uint8', 'bool_', 'object_', 'str_', 'bytes_', 'intc', 'intp',
]);

const SKLEARN_MODULE = /^sklearn(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const CLASS_NAME = /^_{0,2}[A-Z][A-Za-z0-9_]*$/;

/** Python 2 module names CPython maps when unpickling protocol < 3 (fix_imports). */
const PY2_MODULES: Readonly<Record<string, string>> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

export function isAllowedGlobal(module: string, name: string): boolean {
  const q = `${module}.${name}`;
  if (EMULATED.has(q) || INERT.has(q)) return true;
  if (module === 'numpy' && NUMPY_TYPES.has(name)) return true;
  return SKLEARN_MODULE.test(module) && CLASS_NAME.test(name);
}

/** Resolves a GLOBAL/STACK_GLOBAL reference or throws naming the offending global. */
export function resolveGlobal(rawModule: string, name: string): PyGlobal {
  const module = PY2_MODULES[rawModule] ?? rawModule;
  if (!isAllowedGlobal(module, name)) {
    const raw = `${rawModule}.${name}`.slice(0, 200);
    const mapped = `${module}.${name}`.slice(0, 200);
    const shown = raw === mapped ? `'${raw}'` : `'${mapped}' (written as '${raw}')`;
    throw new SklearnLoadError(
      'FORBIDDEN_GLOBAL',
      `refusing pickle global ${shown}: only scikit-learn, numpy and joblib data classes are allowed (nothing in a model file is ever executed)`,
    );
  }
  return new PyGlobal(module, name);
}
