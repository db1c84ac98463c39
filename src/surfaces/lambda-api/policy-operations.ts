import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ModelfnError } from '../../shared/errors.js';
import { own } from '../../shared/json.js';
import { functionArn } from '../../registry/arn.js';
import type { Registry } from '../../registry/registry.js';
import type { FunctionDocument } from '../../registry/types.js';
import { hasQualifier } from '../../registry/versions.js';
import { sendJson } from '../../server/http/respond.js';
import type { LambdaApiSurface } from './lambda-api-surface.js';
import { functionTarget } from './function-target.js';
import { jsonBody } from './request.js';

/**
 * A function's resource-based policy: AddPermission, RemovePermission and GetPolicy, with
 * Lambda's statement format, limits and errors, so that the AWS CLI and the tools built on the
 * API (SAM, CDK, Terraform's aws_lambda_permission) manage permissions here as they do on AWS.
 *
 * modelfn keeps the policy; it does not evaluate it. Who may call a function is decided by the
 * platform's access keys and tenants (one account, tenants that cannot see each other's
 * functions), and a grant to an AWS service or another AWS account names callers that do not
 * exist here. The README says so.
 */

/** Lambda's limit on a policy document, in bytes of its JSON. */
export const MAX_POLICY_BYTES = 20 * 1024;
const STATEMENT_ID = /^[a-zA-Z0-9_-]{1,100}$/;
/** RemovePermission also accepts the dots of statement ids that services add. */
const NAMESPACED_STATEMENT_ID = /^[a-zA-Z0-9_.-]{1,100}$/;
const ACTION = /^(lambda:\*|lambda:[a-zA-Z]+|\*)$/;
const ACCOUNT_ID = /^\d{12}$/;
const IAM_ARN = /^arn:aws[a-zA-Z-]*:(iam|sts)::\d{12}:\S+$/;
/** A service principal: a DNS name (s3.amazonaws.com, events.amazonaws.com, alexa-appkit.amazon.com). */
const SERVICE = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;
const SOURCE_ARN = /^arn:aws[a-zA-Z0-9-]*:[a-zA-Z0-9-]+:([a-z]{2}(-gov)?-[a-z]+-\d)?:(\d{12})?:\S*$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const EVENT_SOURCE_TOKEN = /^[a-zA-Z0-9._-]{1,256}$/;

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Principal: '*' | { readonly AWS: string } | { readonly Service: string };
  readonly Action: string;
  readonly Resource: string;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** One policy per qualifier ('' is the unqualified function), with its own revision. */
export interface StoredPolicy {
  readonly revisionId: string;
  readonly statements: readonly PolicyStatement[];
}

const addPermissionSchema = z
  .object({
    StatementId: z.string(),
    Action: z.string(),
    Principal: z.string(),
    SourceArn: z.string().optional(),
    SourceAccount: z.string().optional(),
    EventSourceToken: z.string().optional(),
    PrincipalOrgID: z.string().optional(),
    FunctionUrlAuthType: z.enum(['NONE', 'AWS_IAM']).optional(),
    RevisionId: z.string().optional(),
  })
  .passthrough();
export type AddPermissionRequest = z.infer<typeof addPermissionSchema>;

export function policiesOf(doc: FunctionDocument): Readonly<Record<string, StoredPolicy>> {
  const stored = doc.extensions.policies;
  return typeof stored === 'object' && stored !== null ? (stored as Record<string, StoredPolicy>) : {};
}

/** The policy document as GetPolicy returns it (a JSON string inside the JSON answer). */
export function policyDocument(policy: StoredPolicy): string {
  return JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: policy.statements });
}

/** Lambda's reading of AddPermission's Principal: everyone, an account, an IAM ARN or a service. */
function principalOf(principal: string): PolicyStatement['Principal'] {
  if (principal === '*') return '*';
  if (ACCOUNT_ID.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (IAM_ARN.test(principal)) return { AWS: principal };
  if (SERVICE.test(principal)) return { Service: principal };
  throw new ModelfnError('INVALID_PARAMETER', `The provided principal was invalid: ${JSON.stringify(principal.slice(0, 256))} is not *, a 12-digit account id, an IAM ARN or a service principal such as s3.amazonaws.com`);
}

/** The statement AddPermission adds, every member checked against Lambda's rules first. */
export function statementFor(request: AddPermissionRequest, resource: string): PolicyStatement {
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new ModelfnError('INVALID_PARAMETER', message);
  };
  check(STATEMENT_ID.test(request.StatementId), `StatementId ${JSON.stringify(request.StatementId.slice(0, 120))} must be 1-100 letters, digits, - or _`);
  check(ACTION.test(request.Action), `Action ${JSON.stringify(request.Action.slice(0, 120))} must be a Lambda action such as lambda:InvokeFunction, lambda:* or *`);
  const condition: Record<string, Record<string, string>> = {};
  const add = (operator: string, key: string, value: string) => ((condition[operator] ??= {})[key] = value);
  if (request.SourceAccount !== undefined) {
    check(ACCOUNT_ID.test(request.SourceAccount), `SourceAccount must be a 12-digit account id, not ${JSON.stringify(request.SourceAccount.slice(0, 40))}`);
    add('StringEquals', 'AWS:SourceAccount', request.SourceAccount);
  }
  if (request.EventSourceToken !== undefined) {
    check(EVENT_SOURCE_TOKEN.test(request.EventSourceToken), 'EventSourceToken must be 1-256 letters, digits, . _ or -');
    add('StringEquals', 'lambda:EventSourceToken', request.EventSourceToken);
  }
  if (request.PrincipalOrgID !== undefined) {
    check(ORG_ID.test(request.PrincipalOrgID), `PrincipalOrgID must be an organization id such as o-a1b2c3d4e5, not ${JSON.stringify(request.PrincipalOrgID.slice(0, 40))}`);
    add('StringEquals', 'aws:PrincipalOrgID', request.PrincipalOrgID);
  }
  if (request.FunctionUrlAuthType !== undefined) add('StringEquals', 'lambda:FunctionUrlAuthType', request.FunctionUrlAuthType);
  if (request.SourceArn !== undefined) {
    check(SOURCE_ARN.test(request.SourceArn), `SourceArn must be an ARN (arn:partition:service:region:account:resource), not ${JSON.stringify(request.SourceArn.slice(0, 120))}`);
    add('ArnLike', 'AWS:SourceArn', request.SourceArn);
  }
  const statement: PolicyStatement = { Sid: request.StatementId, Effect: 'Allow', Principal: principalOf(request.Principal), Action: request.Action, Resource: resource };
  return Object.keys(condition).length > 0 ? { ...statement, Condition: condition } : statement;
}

/** The policy with one more statement; refuses a Sid already there and a policy over Lambda's size. */
export function addStatement(current: StoredPolicy | undefined, statement: PolicyStatement, revisionId?: string): StoredPolicy {
  checkRevision(current, revisionId);
  const statements = current?.statements ?? [];
  if (statements.some((s) => s.Sid === statement.Sid)) {
    throw new ModelfnError('CONFLICT', `The statement id (${statement.Sid}) provided already exists. Please provide a new statement id, or remove the existing statement.`);
  }
  const next: StoredPolicy = { revisionId: randomUUID(), statements: [...statements, statement] };
  const size = Buffer.byteLength(policyDocument(next));
  if (size > MAX_POLICY_BYTES) throw new ModelfnError('POLICY_LENGTH_EXCEEDED', `The final policy size (${size}) is bigger than the limit (${MAX_POLICY_BYTES}).`);
  return next;
}

/** The policy without the statement `sid`; undefined when that was its last one. */
export function removeStatement(current: StoredPolicy | undefined, sid: string, revisionId?: string): StoredPolicy | undefined {
  if (!current) throw new ModelfnError('RESOURCE_NOT_FOUND', 'No policy is associated with the given resource.');
  checkRevision(current, revisionId);
  const statements = current.statements.filter((s) => s.Sid !== sid);
  if (statements.length === current.statements.length) throw new ModelfnError('RESOURCE_NOT_FOUND', `Statement ${sid} is not found in resource policy.`);
  return statements.length === 0 ? undefined : { revisionId: randomUUID(), statements };
}

function checkRevision(current: StoredPolicy | undefined, revisionId: string | undefined): void {
  if (revisionId === undefined || revisionId === current?.revisionId) return;
  throw new ModelfnError(
    'PRECONDITION_FAILED',
    current
      ? 'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id'
      : 'The Revision Id provided does not match: the function has no policy yet (add the first statement without a RevisionId)',
  );
}

/** The function and the key of its policy ('' is the unqualified function, $LATEST included). */
function policyTarget(registry: Registry, ref: string, query: URLSearchParams): { doc: FunctionDocument; qualifier: string } {
  const { doc, qualifier } = functionTarget(registry, ref, query.get('Qualifier'));
  return { doc, qualifier: qualifier ?? '' };
}

/** AddPermission, RemovePermission, GetPolicy. */
export function registerPolicyOperations(api: LambdaApiSurface, registry: Registry): void {
  const account = registry.account;
  /** Change one qualifier's policy with compare-and-set: the checks run against the stored document. */
  const change = (name: string, qualifier: string, next: (current: StoredPolicy | undefined) => StoredPolicy | undefined) =>
    registry.update(name, (d) => {
      if (!d) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(account, name)}`);
      // The version or alias may have gone since the call was checked.
      if (qualifier !== '' && !hasQualifier(d, qualifier)) {
        throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(account, name, qualifier)}`);
      }
      const policies: Record<string, StoredPolicy> = { ...policiesOf(d) };
      const policy = next(own(policies, qualifier));
      // defineProperty: an alias named __proto__ is a key like any other.
      if (policy) Object.defineProperty(policies, qualifier, { value: policy, enumerable: true, writable: true, configurable: true });
      else delete policies[qualifier];
      return { ...d, extensions: { ...d.extensions, policies } };
    });

  api.operation('POST', '/2015-03-31/functions/:name/policy', async (req, res, p, query) => {
    const request = await jsonBody(req, addPermissionSchema, 64 * 1024);
    const { doc, qualifier } = policyTarget(registry, p.name!, query);
    const statement = statementFor(request, functionArn(account, doc.name, qualifier || undefined));
    await change(doc.name, qualifier, (current) => addStatement(current, statement, request.RevisionId));
    sendJson(res, 201, { Statement: JSON.stringify(statement) });
  });

  api.operation('GET', '/2015-03-31/functions/:name/policy', async (_req, res, p, query) => {
    const { doc, qualifier } = policyTarget(registry, p.name!, query);
    const policy = own(policiesOf(doc), qualifier);
    if (!policy) throw new ModelfnError('RESOURCE_NOT_FOUND', 'The resource you requested does not exist.');
    sendJson(res, 200, { Policy: policyDocument(policy), RevisionId: policy.revisionId });
  });

  api.operation('DELETE', '/2015-03-31/functions/:name/policy/:sid', async (_req, res, p, query) => {
    const sid = p.sid!;
    if (!NAMESPACED_STATEMENT_ID.test(sid)) throw new ModelfnError('INVALID_PARAMETER', `StatementId ${JSON.stringify(sid.slice(0, 120))} must be 1-100 letters, digits, . - or _`);
    const { doc, qualifier } = policyTarget(registry, p.name!, query);
    const revisionId = query.get('RevisionId') ?? undefined;
    await change(doc.name, qualifier, (current) => removeStatement(current, sid, revisionId));
    res.writeHead(204);
    res.end();
  });
}
