import fc from 'fast-check';

/**
 * What every fuzz family takes: `npm test` runs each briefly with a fixed seed, `npm run fuzz`
 * long with a random one (printed, so a failure can be replayed with `--seed`).
 */
export interface FuzzOptions {
  readonly numRuns: number;
  readonly seed: number;
}

/** One family of properties (one parser family, or one surface over HTTP). */
export type FuzzFamily = (options: FuzzOptions) => Promise<void>;

/**
 * fast-check parameters for one property. `share` scales the run count for properties that cost
 * more per run than the family's cheapest one (a zip inspection, an HTTP request).
 */
export function runs(options: FuzzOptions, share = 1): fc.Parameters<unknown> {
  return { numRuns: Math.max(1, Math.round(options.numRuns * share)), seed: options.seed, includeErrorInReport: true };
}

/**
 * Call fn; any error must pass `allowed`, else it is rethrown with `what` and the input named, so a
 * fast-check report says which parser let which error escape.
 */
export function onlyThrows<T>(fn: () => T, allowed: (err: unknown) => boolean, what: string): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (allowed(err)) return undefined;
    throw new Error(`${what} threw an error it must not: ${describeError(err)}`, { cause: err });
  }
}

/** The async form of onlyThrows. */
export async function onlyRejects<T>(fn: () => Promise<T>, allowed: (err: unknown) => boolean, what: string): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (allowed(err)) return undefined;
    throw new Error(`${what} threw an error it must not: ${describeError(err)}`, { cause: err });
  }
}

export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const stack = err.stack ? `\n${err.stack.split('\n').slice(1, 6).join('\n')}` : '';
  return `${err.name}: ${err.message}${stack}${err.cause !== undefined ? `\ncaused by ${describeError(err.cause)}` : ''}`;
}

/** Any character a Node request line or header can carry (Node decodes them as latin1). */
export const latin1Char = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));

export function latin1String(constraints: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<string> {
  return fc.string({ unit: latin1Char, ...constraints });
}

/** Characters an HTTP header name may hold (RFC 9110 token). */
const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const tokenString = (maxLength = 16): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength });

/** A header value Node accepts on the wire: visible latin1 and tabs/spaces, no CR/LF/NUL. */
export const headerValueString = (maxLength = 40): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).filter((c) => c === 9 || (c >= 32 && c !== 127)).map((c) => String.fromCharCode(c)), maxLength });

/** Byte strings: random, or mutated from a seed (flips, cuts, splices, repeats). */
export function mutatedBytes(seeds: readonly Uint8Array[], maxEdits = 8): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 2, max: 8 }) }),
  );
  return fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(edit, { minLength: 1, maxLength: maxEdits })).map(([which, edits]) => {
    let b = Buffer.from(seeds[which]!);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % b.length;
      switch (e.kind) {
        case 'set':
          if (b.length > 0) b[at] = e.value;
          break;
        case 'flip':
          if (b.length > 0) b[at] = b[at]! ^ (1 << e.bit);
          break;
        case 'cut':
          b = b.subarray(0, at);
          break;
        case 'delete':
          b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.length)]);
          break;
        case 'insert':
          b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)]);
          break;
        case 'repeat': {
          const piece = b.subarray(at, at + e.length);
          b = Buffer.concat([b.subarray(0, at), ...Array.from({ length: e.times }, () => piece), b.subarray(at + e.length)]);
          break;
        }
      }
    }
    return new Uint8Array(b);
  });
}

/** A JSON value nested `depth` levels deep (arrays or objects), as text: parsers must survive it. */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A value one time in `every`, else `none` (fc.option's freq counts the other way: nil is 1 in freq). */
export function sometimes<T, N = undefined>(arb: fc.Arbitrary<T>, every: number, none?: N): fc.Arbitrary<T | N> {
  return fc.oneof({ weight: every - 1, arbitrary: fc.constant(none as N) }, { weight: 1, arbitrary: arb });
}

/** Deadline guard: a property run that takes longer than this is a hang, reported with its input. */
export function withinMs<T>(ms: number, what: string, fn: () => T): T {
  const start = performance.now();
  const out = fn();
  const took = performance.now() - start;
  if (took > ms) throw new Error(`${what} took ${took.toFixed(0)} ms (limit ${ms} ms)`);
  return out;
}
