import { ModelfnError } from '../../shared/errors.js';
import { functionArn, parseFunctionReference, reconcileQualifier } from '../../registry/arn.js';
import type { Registry } from '../../registry/registry.js';
import type { FunctionDocument } from '../../registry/types.js';
import { hasQualifier } from '../../registry/versions.js';

const QUALIFIER = /^[a-zA-Z0-9$_-]{1,128}$/;

/**
 * The function and qualifier an operation names: the qualifier from the name (name:alias, a
 * partial or full ARN) or from ?Qualifier, which must agree (Lambda's pattern admits an empty
 * Qualifier: none). The function must exist for the caller and the qualifier name one of its
 * versions or aliases; `qualifier` is undefined for the unqualified function and for $LATEST.
 */
export function functionTarget(registry: Registry, ref: string, qualifierParam: string | null): { doc: FunctionDocument; qualifier: string | undefined } {
  const account = registry.account;
  const parsed = parseFunctionReference(ref, account);
  const fromQuery = qualifierParam || undefined;
  if (fromQuery !== undefined && !QUALIFIER.test(fromQuery)) {
    throw new ModelfnError('INVALID_PARAMETER', `Qualifier ${JSON.stringify(fromQuery.slice(0, 140))} must be $LATEST, a version number or an alias name`);
  }
  const qualifier = reconcileQualifier(parsed.qualifier, fromQuery);
  const doc = registry.get(parsed.name);
  if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(account, parsed.name)}`);
  if (qualifier !== undefined && !hasQualifier(doc, qualifier)) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(account, doc.name, qualifier)}`);
  return { doc, qualifier: qualifier === '$LATEST' ? undefined : qualifier };
}
