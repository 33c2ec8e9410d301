// Submitting a table operation (POST /tables/:name/rebalance, /analyze) as a job like any load: stored
// in ingest.jobs, queued, run by a worker, with its runs, progress, cancel, notify and dashboard page.
// What can be refused before anything runs is refused here: a table in a schema no job may touch, a
// notify.url a load's job could not have, an unknown table, or a rebalance on PostgreSQL without Citus
// or of a table Citus does not distribute.
import { createHash, randomUUID } from 'node:crypto';
import { IngestError } from '../errors.js';
import { defaultFormat, specDefaults, type JobSpec, type TableOperation } from '../jobs/spec.js';
import { enqueueStored, type SubmitDeps } from '../jobs/submit.js';
import { checkNotifyUrl } from '../notifyTarget.js';
import { insertJob } from '../sql/insertJob.js';
import type { JobRow } from '../sql/jobRows.js';
import { citusVersion, distributionOf } from '../sink/citus.js';
import { operationTable } from './operationTable.js';

export async function submitTableOperation(deps: SubmitDeps, table: string, op: TableOperation, notifyUrl?: string): Promise<JobRow> {
  const { qualified, oid } = await operationTable(deps.pool, table, deps.config.targetAllowedSchemas);
  if (notifyUrl !== undefined) await checkNotifyUrl(notifyUrl, deps.config.notifyAllowedHosts);
  if (op.kind === 'rebalance') {
    if (!(await citusVersion(deps.pool))) {
      throw new IngestError('CITUS_NOT_AVAILABLE', `rebalancing ${table} needs Citus, and this database has no citus extension; nothing was started`, { table });
    }
    const d = await distributionOf(deps.pool, oid);
    if (d.type !== 'distributed') {
      throw new IngestError('TARGET_NOT_DISTRIBUTED', `${table} is a ${d.type} table: only a distributed table has shards to rebalance`, { table, type: d.type });
    }
  }
  const spec: JobSpec = {
    source: { url: '' }, format: defaultFormat, target: { table }, maxErrors: specDefaults.maxErrors, dryRun: specDefaults.dryRun,
    tableOperation: op,
    ...(notifyUrl !== undefined ? { notify: { url: notifyUrl } } : {}),
  };
  const { row } = await insertJob(deps.pool, {
    id: randomUUID(),
    spec,
    target: qualified,
    sourceUrl: `${op.kind}:${qualified}`,
    queue: deps.config.queueName,
    specHash: createHash('sha256').update(JSON.stringify(spec)).digest('hex'),
  });
  await enqueueStored(deps, row.id);
  return row;
}
