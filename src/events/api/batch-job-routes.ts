import type { BlobStore } from '../../artifacts/blob-store.js';
import type { Registry } from '../../registry/registry.js';
import { SHA256_HEX } from '../../artifacts/blob-store.js';
import { readBody } from '../../server/http/body.js';
import { send, sendJson } from '../../server/http/respond.js';
import { ModelfnError } from '../../shared/errors.js';
import type { BatchJobs } from '../batch/batch-jobs.js';
import type { InvocationRecordStore } from '../records.js';
import type { AdminRegistrar } from './http.js';
import { jsonBody, onWithBody } from './http.js';

const MAX_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Batch jobs for files already stored: upload the input (POST /_modelfn/v1/files), start a job
 * (POST /_modelfn/v1/batch-jobs), follow it (GET .../batch-jobs/{id}), download the output
 * (GET .../batch-jobs/{id}/output).
 */
export function registerBatchJobRoutes(admin: AdminRegistrar, d: { jobs: Pick<BatchJobs, 'submit'>; blobs: BlobStore; records: InvocationRecordStore; registry?: Registry }): void {
  onWithBody(
    admin,
    'POST',
    '/_modelfn/v1/files',
    async (req, res) => {
      const stored = await d.blobs.put(await readBody(req, MAX_FILE_BYTES));
      sendJson(res, 201, stored);
    },
    MAX_FILE_BYTES,
  );
  admin.on('GET', '/_modelfn/v1/files/:sha256', async (_req, res, p) => {
    const bytes = SHA256_HEX.test(p.sha256!) ? await d.blobs.get(p.sha256!) : undefined;
    if (!bytes) throw new ModelfnError('RESOURCE_NOT_FOUND', `no file ${p.sha256}`);
    send(res, 200, bytes, { 'content-type': 'application/octet-stream' });
  });
  admin.on('POST', '/_modelfn/v1/batch-jobs', async (req, res) => sendJson(res, 202, await d.jobs.submit(await jsonBody(req))));
  const job = async (id: string) => {
    const record = await d.records.get(id);
    // A job is visible to whoever can see its function (another tenant's jobs do not exist).
    if (!record || record.kind !== 'job' || (d.registry && !d.registry.get(record.functionName))) throw new ModelfnError('RESOURCE_NOT_FOUND', `no batch job ${id}`);
    return record;
  };
  admin.on('GET', '/_modelfn/v1/batch-jobs/:id', async (_req, res, p) => sendJson(res, 200, await job(p.id!)));
  admin.on('GET', '/_modelfn/v1/batch-jobs/:id/output', async (_req, res, p) => {
    const record = await job(p.id!);
    const output = record.detail.output as { sha256: string } | undefined;
    if (record.status !== 'succeeded' || !output) throw new ModelfnError('CONFLICT', `batch job ${p.id} is ${record.status}; its output is ready when it has succeeded`);
    const bytes = await d.blobs.get(output.sha256);
    if (!bytes) throw new ModelfnError('RESOURCE_NOT_FOUND', `the output of batch job ${p.id} is gone`);
    send(res, 200, bytes, { 'content-type': 'application/octet-stream' });
  });
}
