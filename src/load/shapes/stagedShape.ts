// atomicity "job", and the replace and upsert modes: files load into a table aside, committed one by
// one there, and one transaction at the end publishes them into the target with every file's ledger
// row (load/stagedLoad.ts). A failure publishes nothing and drops the stage; the retry starts afresh.
import type { ObjectInfo } from '../../sources/source.js';
import type { FileUnit } from '../fileUnit.js';
import type { FileResult } from '../objectLoad.js';
import { createStage, dropStageFor, publish } from '../stagedLoad.js';
import { PerFile } from './perFile.js';
import type { ShapeFactory } from './shape.js';

export const stagedShape: ShapeFactory = async (ctx) => {
  const { pool, spec, ids, timer, log } = ctx;
  const stage = await timer.time('stageMs', () => createStage(pool, spec, ids.jobId));
  const files = new PerFile(ctx, stage.name);
  // The publish writes every loaded file's ledger row: it needs their results.
  const loaded: Array<{ object: ObjectInfo; result: FileResult }> = [];
  const intoStage: FileUnit = { table: stage.name, claim: async () => undefined, settle: async () => ({ end: 'commit' }) };
  return {
    objects: ctx.listing,
    concurrency: files.concurrency,
    commitsEachObject: false,
    load: async (load) => {
      const result = await files.load(load, intoStage);
      if (result.status === 'loaded') loaded.push({ object: load.object, result });
      return result;
    },
    finish: async (totals) => {
      const published = await timer.time('publishMs', () => publish(pool, log, spec, stage, loaded, ids));
      return { rowsLoaded: totals.rowsLoaded, changedTarget: true, result: { published } };
    },
    abort: () => dropStageFor(pool, spec, ids.jobId).catch(() => {}),
    release: () => files.close(),
    close: async () => {},
  };
};
