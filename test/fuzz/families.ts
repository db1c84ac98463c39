import type { FuzzFamily } from './harness.js';
import { fuzzApigw } from './apigw.fuzz.js';
import { fuzzCodecs } from './codecs.fuzz.js';
import { fuzzSigv4 } from './sigv4.fuzz.js';

/**
 * Every fuzz family by name. In-process parsers first (fast); the HTTP families start a real
 * platform each.
 */
export const PARSER_FAMILIES: Record<string, FuzzFamily> = {
  sigv4: fuzzSigv4,
  apigw: fuzzApigw,
  codecs: fuzzCodecs,
};

export const HTTP_FAMILIES: Record<string, FuzzFamily> = {};
