// atomicity "file" (the default): each object in its own transaction with its file-ledger row, straight
// into the target. A failure leaves the files committed before it loaded; the retry skips them.
import { ledgeredUnit } from '../fileUnit.js';
import { PerFile } from './perFile.js';
import type { LoadShape, ShapeFactory } from './shape.js';

export const fileShape: ShapeFactory = async (ctx) => {
  const files = new PerFile(ctx, ctx.spec.target.table);
  const shape: LoadShape = {
    objects: ctx.listing,
    concurrency: files.concurrency,
    commitsEachObject: true,
    load: (load) => files.load(load, ledgeredUnit(ctx.ids, load.object, ctx.spec.target.table, ctx.spec.reload === true, files.entered ? ctx.targetOid : undefined)),
    finish: async (totals) => ({ rowsLoaded: totals.rowsLoaded, changedTarget: true, result: {} }),
    abort: async () => {},
    release: () => files.close(),
    close: async () => {},
  };
  return shape;
};
