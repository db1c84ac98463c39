import { arch } from 'node:os';
import { ModelfnError } from '../../shared/errors.js';

/** The instruction set functions run on here: the host's, in Lambda's words. */
export const HOST_ARCHITECTURE = arch() === 'arm64' ? 'arm64' : 'x86_64';

/** What a function that wants a layer does instead. */
export const LAYERS_UNSUPPORTED =
  "Lambda layers are not supported: put the layer's files in the function's zip (a Node.js layer's nodejs/node_modules as node_modules, a Python layer's python/ folder at the zip's root)";

const nonEmpty = (v: unknown): boolean =>
  v !== undefined && v !== null && v !== '' && v !== false && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => !nonEmpty(x)));

/** What each member would need, and what to do instead. */
const UNHONOURED: ReadonlyArray<[member: string, why: string]> = [
  ['Layers', LAYERS_UNSUPPORTED],
  ['FileSystemConfigs', 'file systems (EFS) are not supported: functions have their own /tmp (EphemeralStorage) and read their code folder'],
  ['VpcConfig', 'VPC attachment is not supported: a function reaches the network of the host it runs on (or none, in a sandbox with the network denied)'],
  ['KMSKeyArn', 'AWS KMS keys are not supported: environment variables are kept in the platform\'s own store'],
  ['CodeSigningConfigArn', 'code signing is not supported'],
  ['ImageConfig', 'ImageConfig applies to container images, which modelfn does not run: deploy a Zip package'],
];

/**
 * CreateFunction and UpdateFunctionConfiguration members modelfn cannot honour are refused by
 * name instead of dropped: a function deployed without its layer, file system or network would
 * fail later, far from the cause. Empty values (what infrastructure tools send for "none") pass.
 */
export function refuseUnhonoured(body: Readonly<Record<string, unknown>>): void {
  for (const [member, why] of UNHONOURED) {
    if (nonEmpty(body[member])) throw new ModelfnError('INVALID_PARAMETER', `${member}: ${why}`);
  }
  const architectures = body.Architectures;
  if (Array.isArray(architectures) && architectures.some((a) => a !== HOST_ARCHITECTURE)) {
    throw new ModelfnError('INVALID_PARAMETER', `Architectures: this platform runs functions on ${HOST_ARCHITECTURE} (its host's), not ${architectures.join(', ')}`);
  }
}
