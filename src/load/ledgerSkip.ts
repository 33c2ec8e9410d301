// Before any object opens a transaction: one query per listed page tells which of its objects the file
// ledger already holds for the target. Those are recorded as skipped (one statement a page) and never
// loaded; a shape's load still claims each object it loads, so a race with another job stays safe.
import type { Pool } from '../db/pool.js';
import type { JobSpec } from '../jobs/spec.js';
import type { Logger } from '../log.js';
import type { ObjectInfo, ObjectSource } from '../sources/source.js';
import { ledgerEntries, objectKey } from '../sql/fileLedger.js';
import { recordSkippedFiles } from '../sql/runFiles.js';
import { skippedResult } from './objectLoad.js';
import type { RunTotals } from './runTotals.js';
import type { RunIds } from './shapes/shape.js';
import type { StageTimer } from './stageTimer.js';

/** A reload, and a replace (which swaps in a new table), loads every object whatever the ledger holds. */
export function reloadsAll(spec: JobSpec): boolean {
  return spec.reload === true || spec.mode === 'replace';
}

/** The pages with the objects the ledger holds taken out; the next page's query runs while this one loads. */
export async function* notInLedger(
  pages: AsyncIterable<ObjectInfo[]>,
  o: { pool: Pool; ids: RunIds; targetOid: number | undefined; source: ObjectSource; totals: RunTotals; timer: StageTimer; log: Logger },
): AsyncGenerator<ObjectInfo[]> {
  for await (const page of pages) {
    const known = await o.timer.time('ledgerMs', () => ledgerEntries(o.pool, o.ids.target, o.targetOid, page));
    const skipped = page.filter((object) => known.has(objectKey(object)));
    if (skipped.length > 0) {
      const loadedBy = (object: ObjectInfo) => known.get(objectKey(object))!;
      await recordSkippedFiles(o.pool, o.ids, skipped.map((object) => ({ object, loadedByRun: loadedBy(object).runId })));
      for (const object of skipped) o.totals.add(o.source.url(object), skippedResult(loadedBy(object)));
      o.log.info({ files: skipped.length, first: skipped[0]!.key }, 'objects already in the file ledger for this target; skipped');
    }
    yield skipped.length > 0 ? page.filter((object) => !known.has(objectKey(object))) : page;
  }
}
