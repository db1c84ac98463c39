import type { FunctionDocument } from './types.js';

/**
 * The document extensions that hold settings per version or alias, keyed by the qualifier:
 * provisioned concurrency, function URLs, event-invoke configurations and resource policies.
 * Their owners live in other modules (they name the same keys); a unit test holds the two lists
 * together.
 */
export const QUALIFIED_EXTENSIONS = ['provisioned', 'urls', 'eventInvokeConfigs', 'policies'] as const;

/**
 * The document without the settings of a deleted version or alias. On Lambda they go with it; kept,
 * they would come back to life on an alias created later under the same name (a URL, a permission
 * granted to its namesake).
 */
export function withoutQualifier(doc: FunctionDocument, qualifier: string): FunctionDocument {
  let extensions: Record<string, unknown> | undefined;
  for (const key of QUALIFIED_EXTENSIONS) {
    const settings = doc.extensions[key];
    if (typeof settings !== 'object' || settings === null || !Object.hasOwn(settings, qualifier)) continue;
    const rest = { ...(settings as Record<string, unknown>) };
    delete rest[qualifier];
    extensions ??= { ...doc.extensions };
    extensions[key] = rest;
  }
  return extensions ? { ...doc, extensions } : doc;
}
