// Submitting a job: the checks a JSON schema cannot make, storing the job row (PostgreSQL is the source
// of truth), and queueing it. Used by POST /jobs and by schedule ticks.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { IngestError } from '../errors.js';
import type { Logger } from '../log.js';
import { enqueueLoad, type LoadQueue } from '../queue/queue.js';
import { checkNotifyUrl } from '../notifyTarget.js';
import { checkKey } from '../sources/keys.js';
import type { Sources } from '../sources/registry.js';
import { sourceFor } from '../sources/resolveSources.js';
import { insertJob } from '../sql/insertJob.js';
import type { JobRow } from '../sql/jobRows.js';
import { parseTableName, qualifiedName, type TableName } from '../sink/names.js';
import { checkEncoding } from '../sink/checkEncoding.js';
import { checkColumnTypes } from '../sink/prepareTarget.js';
import { checkTargetSchema } from '../sink/schemaPolicy.js';
import { specProblem, type JobSpec } from './spec.js';
import { legacySpecHash, specHash as hashSpec } from './specHash.js';
import { withTimeout } from '../timeout.js';

export interface SubmitDeps {
  pool: Pool;
  queue: LoadQueue;
  config: Config;
  log: Logger;
  sources: Sources;
}

/** Checks a normalized spec beyond its JSON schema; throws INVALID_SPEC, SOURCE_FORBIDDEN, TARGET_FORBIDDEN or NOTIFY_URL_FORBIDDEN naming the field. */
export async function checkSpec(deps: Pick<SubmitDeps, 'pool' | 'config' | 'sources'>, spec: JobSpec): Promise<string> {
  // The URL parses, its scheme is configured and its allow-list lets it through (nothing is requested yet).
  sourceFor(deps.sources, spec.source.url);
  if (spec.source.waitForMarker !== undefined) checkKey(spec.source.waitForMarker, '/source/waitForMarker');
  const problem = specProblem(spec);
  if (problem) throw new IngestError('INVALID_SPEC', `invalid job spec: ${problem.field} ${problem.reason}`, { ...problem });
  await checkEncoding(deps.pool, spec.format.encoding);
  if (spec.notify) await checkNotifyUrl(spec.notify.url, deps.config.notifyAllowedHosts);
  let table: TableName;
  try {
    table = parseTableName(spec.target.table);
  } catch (err) {
    throw new IngestError('INVALID_SPEC', `target.table: ${(err as Error).message}`, { field: '/target/table' });
  }
  checkTargetSchema(table.schema, deps.config.targetAllowedSchemas, spec.target.table);
  await checkColumnTypes(deps.pool, spec);
  return qualifiedName(table);
}

export async function submitJob(
  deps: SubmitDeps,
  spec: JobSpec,
  opts: { idempotencyKey?: string; schedule?: string } = {},
): Promise<{ row: JobRow; created: boolean }> {
  const target = await checkSpec(deps, spec);
  const specHash = hashSpec(spec);
  const { row, created } = await insertJob(deps.pool, {
    id: randomUUID(),
    spec,
    target,
    sourceUrl: spec.source.url,
    queue: deps.config.queueName,
    specHash,
    ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
    ...(opts.schedule ? { schedule: opts.schedule } : {}),
  });
  if (!created) {
    if (row.spec_hash !== specHash && row.spec_hash !== legacySpecHash(spec)) {
      throw new IngestError('IDEMPOTENCY_CONFLICT', `Idempotency-Key ${JSON.stringify(opts.idempotencyKey)} was used for job ${row.id} with a different spec`, {
        jobId: row.id,
      });
    }
    return { row, created };
  }
  await enqueueStored(deps, row.id);
  return { row, created };
}

/** Queues a stored job. Bounded: with Redis down the client would retry for ever; the job is stored either way. */
export async function enqueueStored(deps: Pick<SubmitDeps, 'queue' | 'log'>, jobId: string): Promise<void> {
  try {
    await withTimeout(enqueueLoad(deps.queue, jobId), 3000, () => new Error('Redis did not answer within 3 s'));
  } catch (err) {
    // The worker's reconciler queues it once Redis is back.
    deps.log.warn({ err, jobId }, 'could not enqueue; the reconciler will');
  }
}
