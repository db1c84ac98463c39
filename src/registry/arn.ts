import { ModelfnError } from '../shared/errors.js';
import { FUNCTION_NAME_PATTERN } from './function-spec.js';

export interface AccountContext {
  readonly region: string;
  readonly accountId: string;
}

export interface FunctionReference {
  readonly name: string;
  readonly qualifier?: string;
}

const QUALIFIER = /^(\$LATEST|[0-9]+|[A-Za-z0-9_-]{1,128})$/;

/**
 * Lambda accepts a function as a name, "name:qualifier", a partial ARN ("123456789012:function:name")
 * or a full ARN; all resolve to a name and an optional qualifier.
 */
export function parseFunctionReference(ref: string, account: AccountContext): FunctionReference {
  let rest = ref;
  const full = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:(.+)$/.exec(ref);
  const partial = /^(\d{12}):function:(.+)$/.exec(ref);
  if (full) {
    if (full[1] !== account.region || full[2] !== account.accountId) {
      throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${ref} (this platform is region ${account.region}, account ${account.accountId})`);
    }
    rest = full[3]!;
  } else if (partial) {
    if (partial[1] !== account.accountId) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${ref}`);
    rest = partial[2]!;
  }
  const parts = rest.split(':');
  if (parts.length > 2 || !FUNCTION_NAME_PATTERN.test(parts[0]!)) {
    throw new ModelfnError('INVALID_PARAMETER', `invalid function name ${JSON.stringify(ref)}: use a name of 1-64 letters, digits, - or _, optionally with :version or :alias, or an ARN`);
  }
  if (parts.length === 2 && !QUALIFIER.test(parts[1]!)) {
    throw new ModelfnError('INVALID_PARAMETER', `invalid qualifier ${JSON.stringify(parts[1])} in ${JSON.stringify(ref)}`);
  }
  return parts.length === 2 ? { name: parts[0]!, qualifier: parts[1]! } : { name: parts[0]! };
}

/** The qualifier a call names in its function name and in ?Qualifier: one of them, or both when they agree. */
export function reconcileQualifier(fromName: string | undefined, fromQuery: string | undefined): string | undefined {
  if (fromName !== undefined && fromQuery !== undefined && fromName !== fromQuery) {
    throw new ModelfnError('INVALID_PARAMETER', `the qualifier in the function name (${fromName}) and the Qualifier parameter (${fromQuery}) differ`);
  }
  return fromName ?? fromQuery;
}

export function functionArn(account: AccountContext, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${account.region}:${account.accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}
