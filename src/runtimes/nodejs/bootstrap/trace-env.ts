/**
 * `process.env._X_AMZN_TRACE_ID` changes with every invocation (Lambda sets it for the X-Ray SDK).
 * A write to the real `process.env` is libc's setenv, and glibc never frees a value it replaced
 * (it keeps every "NAME=value" string it was given): a new trace id per call grew an instance by
 * about 140 bytes per call, 140 MB per million calls. So this one variable lives in JavaScript:
 * `process.env` becomes a proxy of the real environment that answers for the trace id itself —
 * reads, `in`, `Object.keys`, spreads and child processes (which copy `process.env`) all see it;
 * every other variable reads and writes the real environment exactly as before. Only native code
 * calling getenv() misses the trace id.
 */
const TRACE = '_X_AMZN_TRACE_ID';

export interface TraceEnv {
  /** The current invocation's trace id (undefined: the variable is unset). */
  set(trace: string | undefined): void;
}

export function installTraceEnv(): TraceEnv {
  const real = process.env;
  let trace: string | undefined = real[TRACE];
  if (trace !== undefined) delete real[TRACE];
  const proxy = new Proxy(real, {
    get: (target, key, receiver) => (key === TRACE ? trace : Reflect.get(target, key, receiver)),
    set: (target, key, value, receiver) => {
      if (key !== TRACE) return Reflect.set(target, key, value, receiver);
      trace = String(value); // as the real environment stores it
      return true;
    },
    has: (target, key) => (key === TRACE ? trace !== undefined : Reflect.has(target, key)),
    deleteProperty: (target, key) => {
      if (key !== TRACE) return Reflect.deleteProperty(target, key);
      trace = undefined;
      return true;
    },
    ownKeys: (target) => (trace === undefined ? Reflect.ownKeys(target) : [...Reflect.ownKeys(target), TRACE]),
    getOwnPropertyDescriptor: (target, key) =>
      key === TRACE ? (trace === undefined ? undefined : { value: trace, writable: true, enumerable: true, configurable: true }) : Reflect.getOwnPropertyDescriptor(target, key),
    defineProperty: (target, key, descriptor) => {
      if (key !== TRACE) return Reflect.defineProperty(target, key, descriptor);
      trace = String(descriptor.value);
      return true;
    },
  });
  process.env = proxy;
  return {
    set(value) {
      trace = value;
    },
  };
}
