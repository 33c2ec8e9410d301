// mode "merge": one merge into a target at a time, its files in order (by name or lastModified), each
// loaded into the merge stage and merged into the target in its own transaction with its ledger row
// (load/mergeRun.ts, load/mergeStage.ts). The order check needs every file before the first merges, so
// this shape collects the listing whole.
import { Listing } from '../../sources/listing.js';
import { tableOid } from '../../sink/prepareTarget.js';
import { FileClaim, type FileUnit } from '../fileUnit.js';
import { startMerge, sumMergeCounts } from '../mergeRun.js';
import { PerFile } from './perFile.js';
import type { ShapeFactory } from './shape.js';

export const mergeShape: ShapeFactory = async (ctx) => {
  const { pool, spec, ids, timer, signal } = ctx;
  const all = await timer.time('headMs', () => ctx.listing.all());
  const merge = await startMerge(pool, spec, ids, all, signal);
  timer.add('mergeWaitMs', merge.waitedMs);
  const objects = Listing.collected(merge.objects);
  const files = new PerFile({ ...ctx, listing: objects }, merge.stage.name, { ...spec, target: { ...spec.target, columns: merge.stage.fileColumns } });
  let ended = false;
  const end = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    await merge.end();
  };
  return {
    objects,
    concurrency: 1,
    commitsEachObject: true,
    load: (load) => {
      const ledger = new FileClaim(ids, load.object, spec.reload === true);
      const mergeInto = merge.mergeFor(load.object);
      const unit: FileUnit = {
        table: merge.stage.name,
        // The ledger knows the object by the table the stage merges into, not by the stage.
        claim: async (client, stageOid, t) => ledger.claim(client, (await tableOid(client, ids.target)) ?? stageOid, t),
        settle: async (client, { rows, rejected }, t) => {
          const counts = await t.time('mergeMs', () => mergeInto(client, rejected));
          await ledger.complete(client, rows);
          return { end: 'commit', merge: counts };
        },
      };
      return files.load(load, unit);
    },
    finish: async (totals) => ({ rowsLoaded: totals.rowsLoaded, changedTarget: true, result: { merge: totals.merge ?? sumMergeCounts([]) } }),
    abort: end,
    release: () => files.close(),
    close: end,
  };
};
