import type { InvocationTarget } from '../scheduler/invocation.js';
import { own } from '../shared/json.js';
import type { Registry } from './registry.js';
import type { FunctionDocument } from './types.js';

/** Provisioned concurrency settings live in the document's extensions, per qualifier. */
export interface ProvisionedSetting {
  readonly requested: number;
  readonly lastModified: string;
}

export function provisionedSettings(doc: FunctionDocument): Record<string, ProvisionedSetting> {
  return (doc.extensions.provisioned as Record<string, ProvisionedSetting> | undefined) ?? {};
}


/**
 * Provisioned concurrency settings (per version or alias) as floors per version: an alias's
 * instances are split between its versions by the alias's weights.
 */
export function provisionedFloors(registry: Registry): Array<{ target: InvocationTarget; count: number }> {
  const floors: Array<{ target: InvocationTarget; count: number }> = [];
  for (const doc of registry.list()) {
    for (const [qualifier, setting] of Object.entries(provisionedSettings(doc))) {
      const shares: Array<[string, number]> = [];
      if (/^\d+$/.test(qualifier)) shares.push([qualifier, setting.requested]);
      else {
        const alias = own(doc.aliases, qualifier);
        if (!alias) continue;
        let rest = setting.requested;
        for (const [version, weight] of Object.entries(alias.additionalVersionWeights)) {
          const n = Math.round(setting.requested * weight);
          shares.push([version, n]);
          rest -= n;
        }
        shares.push([alias.functionVersion, rest]);
      }
      for (const [version, count] of shares) {
        const config = registry.versionConfig(doc, version);
        if (!config || count <= 0) continue;
        floors.push({ target: { config, scaling: doc.scaling, invokedFunctionArn: registry.resolve(doc.name, version).invokedFunctionArn }, count });
      }
    }
  }
  return floors;
}

/** Provisioned status of a qualifier, summed over the versions it maps to. */
export function qualifierVersions(registry: Registry, name: string, qualifier: string): string[] {
  const doc = registry.get(name);
  if (!doc) return [];
  if (/^\d+$/.test(qualifier)) return [qualifier];
  const alias = own(doc.aliases, qualifier);
  return alias ? [alias.functionVersion, ...Object.keys(alias.additionalVersionWeights)] : [];
}
