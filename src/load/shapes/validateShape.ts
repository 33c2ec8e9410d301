// dryRun: every object is loaded in a transaction that rolls back, its bad records reported as rejects;
// the ledger is never touched and nothing stays in the target.
import type { FileUnit } from '../fileUnit.js';
import { PerFile } from './perFile.js';
import type { ShapeFactory } from './shape.js';

const rolledBack = (table: string): FileUnit => ({
  table,
  claim: async () => undefined,
  settle: async () => ({ end: 'rollback' }),
});

export const validateShape: ShapeFactory = async (ctx) => {
  const files = new PerFile(ctx, ctx.spec.target.table);
  return {
    objects: ctx.listing,
    concurrency: files.concurrency,
    commitsEachObject: false,
    load: (load) => files.load(load, rolledBack(ctx.spec.target.table)),
    finish: async (totals) => ({
      rowsLoaded: 0,
      changedTarget: false,
      result: { dryRun: { rowsValid: totals.rowsLoaded, rowsRejected: totals.rowsRejected, filesValidated: totals.files } },
    }),
    abort: async () => {},
    release: () => files.close(),
    close: async () => {},
  };
};
