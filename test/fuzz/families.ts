import type { FuzzFamily } from './harness.js';
import { fuzzApigw } from './apigw.fuzz.js';
import { fuzzCodecs } from './codecs.fuzz.js';
import { fuzzDeploySpec } from './deploy-spec.fuzz.js';
import { fuzzFrames } from './frames.fuzz.js';
import { fuzzHttpAuth } from './http-auth.fuzz.js';
import { fuzzHttpRaw } from './http-raw.fuzz.js';
import { fuzzHttpSurfaces } from './http-surfaces.fuzz.js';
import { fuzzPickle } from './pickle.fuzz.js';
import { fuzzSchedule } from './schedule.fuzz.js';
import { fuzzSigv4 } from './sigv4.fuzz.js';
import { fuzzZipIntake } from './zip-intake.fuzz.js';

/**
 * Every fuzz family by name. In-process parsers first (fast); the HTTP families start a real
 * platform each.
 */
export const PARSER_FAMILIES: Record<string, FuzzFamily> = {
  sigv4: fuzzSigv4,
  apigw: fuzzApigw,
  codecs: fuzzCodecs,
  pickle: fuzzPickle,
  zip: fuzzZipIntake,
  schedule: fuzzSchedule,
  'deploy-spec': fuzzDeploySpec,
  frames: fuzzFrames,
};

export const HTTP_FAMILIES: Record<string, FuzzFamily> = {
  'http-surfaces': fuzzHttpSurfaces,
  'http-raw': fuzzHttpRaw,
  'http-auth': fuzzHttpAuth,
};
