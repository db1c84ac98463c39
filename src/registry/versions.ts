import { randomUUID } from 'node:crypto';
import { own } from '../shared/json.js';
import { ModelfnError } from '../shared/errors.js';
import type { AliasConfig, FunctionConfig, FunctionDocument } from './types.js';
import { withoutQualifier } from './qualified-extensions.js';

/**
 * Versions and aliases as pure transformations of a function document (the caller writes the
 * result with compare-and-set). Semantics follow Lambda: a version is an immutable snapshot of
 * $LATEST's code and configuration; an alias points at a version and may send a weighted share of
 * calls to one other version.
 */

export const ALIAS_NAME = /^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$/;

/** Does the qualifier name something of this function: $LATEST, a published version or an alias? */
export function hasQualifier(doc: FunctionDocument, qualifier: string): boolean {
  if (qualifier === '$LATEST') return true;
  return (/^\d+$/.test(qualifier) ? own(doc.versions, qualifier) : own(doc.aliases, qualifier)) !== undefined;
}

/** Configuration fields that make two snapshots "the same" for PublishVersion. */
function sameSnapshot(a: FunctionConfig, b: FunctionConfig): boolean {
  return (
    a.codeSha256 === b.codeSha256 &&
    a.runtime === b.runtime &&
    a.handler === b.handler &&
    a.memoryMb === b.memoryMb &&
    a.timeoutSec === b.timeoutSec &&
    JSON.stringify(a.environment) === JSON.stringify(b.environment)
  );
}

export function publishVersion(
  doc: FunctionDocument,
  now: string,
  options: { description?: string; revisionId?: string; codeSha256Hex?: string },
): { doc: FunctionDocument; version: FunctionConfig; created: boolean } {
  if (options.revisionId !== undefined && options.revisionId !== doc.latest.revisionId) {
    throw new ModelfnError('PRECONDITION_FAILED', 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id');
  }
  if (options.codeSha256Hex !== undefined && options.codeSha256Hex !== doc.latest.codeSha256) {
    throw new ModelfnError('INVALID_PARAMETER', 'CodeSHA256 does not match the code of $LATEST: it was updated since you read it.');
  }
  const last = doc.versions[String(doc.lastPublishedVersion)];
  if (last && sameSnapshot(last, doc.latest)) return { doc, version: last, created: false };
  const number = doc.lastPublishedVersion + 1;
  const version: FunctionConfig = {
    ...doc.latest,
    version: String(number),
    revisionId: randomUUID(),
    lastModified: now,
    description: options.description ?? doc.latest.description,
  };
  return {
    doc: { ...doc, versions: { ...doc.versions, [String(number)]: version }, lastPublishedVersion: number },
    version,
    created: true,
  };
}

export function deleteVersion(doc: FunctionDocument, version: string): FunctionDocument {
  if (!own(doc.versions, version)) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${doc.name}:${version}`);
  for (const alias of Object.values(doc.aliases)) {
    if (alias.functionVersion === version || version in alias.additionalVersionWeights) {
      throw new ModelfnError('CONFLICT', `Unable to delete version because the following aliases reference it: [${alias.name}]`);
    }
  }
  const versions = { ...doc.versions };
  delete versions[version];
  return withoutQualifier({ ...doc, versions }, version);
}

export interface AliasSpec {
  readonly functionVersion?: string;
  readonly description?: string;
  readonly additionalVersionWeights?: Readonly<Record<string, number>>;
}

export function putAlias(
  doc: FunctionDocument,
  name: string,
  spec: AliasSpec,
  mode: 'create' | 'update',
  revisionId?: string,
): { doc: FunctionDocument; alias: AliasConfig } {
  if (!ALIAS_NAME.test(name)) {
    throw new ModelfnError('INVALID_PARAMETER', `alias name ${JSON.stringify(name)} must be 1-128 letters, digits, - or _ and not only digits`);
  }
  const existing = own(doc.aliases, name);
  if (mode === 'create' && existing) throw new ModelfnError('CONFLICT', `Alias already exists: ${name}`);
  if (mode === 'update' && !existing) throw new ModelfnError('RESOURCE_NOT_FOUND', `Alias not found: ${name}`);
  if (revisionId !== undefined && existing && existing.revisionId !== revisionId) {
    throw new ModelfnError('PRECONDITION_FAILED', 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id');
  }
  const functionVersion = spec.functionVersion ?? existing?.functionVersion;
  if (functionVersion === undefined) throw new ModelfnError('INVALID_PARAMETER', 'FunctionVersion is required');
  if (functionVersion !== '$LATEST' && !own(doc.versions, functionVersion)) {
    throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${doc.name}:${functionVersion}`);
  }
  const weights = spec.additionalVersionWeights ?? existing?.additionalVersionWeights ?? {};
  checkWeights(doc, functionVersion, weights);
  const alias: AliasConfig = {
    name,
    functionVersion,
    description: spec.description ?? existing?.description ?? '',
    additionalVersionWeights: weights,
    revisionId: randomUUID(),
  };
  return { doc: { ...doc, aliases: { ...doc.aliases, [name]: alias } }, alias };
}

export function deleteAlias(doc: FunctionDocument, name: string): FunctionDocument {
  if (!own(doc.aliases, name)) throw new ModelfnError('RESOURCE_NOT_FOUND', `Alias not found: ${name}`);
  const aliases = { ...doc.aliases };
  delete aliases[name];
  return withoutQualifier({ ...doc, aliases }, name);
}

function checkWeights(doc: FunctionDocument, primary: string, weights: Readonly<Record<string, number>>): void {
  const entries = Object.entries(weights);
  if (entries.length > 1) throw new ModelfnError('INVALID_PARAMETER', 'RoutingConfig.AdditionalVersionWeights supports one additional version');
  for (const [version, weight] of entries) {
    if (version === '$LATEST' || primary === '$LATEST') {
      throw new ModelfnError('INVALID_PARAMETER', 'RoutingConfig: $LATEST is not supported for an alias pointing to more than 1 version');
    }
    if (!own(doc.versions, version)) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${doc.name}:${version}`);
    if (version === primary) throw new ModelfnError('INVALID_PARAMETER', 'RoutingConfig: the additional version must differ from the alias\'s primary FunctionVersion');
    if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1)) {
      throw new ModelfnError('INVALID_PARAMETER', `RoutingConfig: the weight of version ${version} must be between 0.0 and 1.0`);
    }
  }
}
