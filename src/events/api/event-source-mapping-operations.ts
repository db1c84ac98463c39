import type { Registry } from '../../registry/registry.js';
import { parseFunctionReference } from '../../registry/arn.js';
import type { MappingStore } from '../queues/event-source-mappings.js';
import { mappingView } from '../queues/event-source-mappings.js';
import type { LambdaOperationRegistrar } from './http.js';
import { intParam, jsonBody, sendAws } from './http.js';

const BASE = '/2015-03-31/event-source-mappings';

/** Lambda's event source mapping operations (SQS-style queues as the source), AWS paths and shapes. */
export function registerEventSourceMappingOperations(api: LambdaOperationRegistrar, registry: Registry, store: MappingStore): void {
  const account = registry.account;
  api.operation('POST', `${BASE}/`, async (req, res, _p, _q, id) => {
    const { functionName, mapping } = await store.create(await jsonBody(req));
    sendAws(res, 202, mappingView(account, functionName, mapping, mapping.enabled ? 'Creating' : 'Disabled'), id);
  });
  api.operation('GET', `${BASE}/`, async (_req, res, _p, query, id) => {
    const source = query.get('EventSourceArn');
    const fn = query.get('FunctionName');
    const fnName = fn ? parseFunctionReference(fn, account).name : undefined;
    const all = store
      .all()
      .filter((m) => (!source || m.mapping.eventSourceArn === source) && (!fnName || m.functionName === fnName))
      .sort((a, b) => a.mapping.uuid.localeCompare(b.mapping.uuid));
    const max = intParam(query, 'MaxItems', 100, 1, 10_000);
    const start = Number(query.get('Marker') ?? 0) || 0;
    const page = all.slice(start, start + max).map((m) => mappingView(account, m.functionName, m.mapping));
    sendAws(res, 200, { EventSourceMappings: page, ...(start + max < all.length ? { NextMarker: String(start + max) } : {}) }, id);
  });
  api.operation('GET', `${BASE}/:uuid`, async (_req, res, p, _q, id) => {
    const { functionName, mapping } = store.mustFind(p.uuid!);
    sendAws(res, 200, mappingView(account, functionName, mapping), id);
  });
  api.operation('PUT', `${BASE}/:uuid`, async (req, res, p, _q, id) => {
    const { functionName, mapping } = await store.update(p.uuid!, await jsonBody(req));
    sendAws(res, 202, mappingView(account, functionName, mapping, mapping.enabled ? 'Updating' : 'Disabled'), id);
  });
  api.operation('DELETE', `${BASE}/:uuid`, async (_req, res, p, _q, id) => {
    const { functionName, mapping } = await store.remove(p.uuid!);
    sendAws(res, 202, mappingView(account, functionName, mapping, 'Deleting'), id);
  });
}
