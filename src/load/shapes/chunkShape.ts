// atomicity "chunk": each large object over several parallel COPY streams, one transaction per chunk
// with its chunk-ledger row, and the object's file-ledger row once every chunk is in (load/loadChunked.ts).
// A failure keeps the chunks committed before it; the retry loads only the missing ones.
import { connectionsPerWorker } from '../../sink/citus.js';
import { loadChunked } from '../loadChunked.js';
import { objectsAtOnce, type ShapeFactory } from './shape.js';

export const chunkShape: ShapeFactory = async (ctx) => ({
  objects: ctx.listing,
  concurrency: objectsAtOnce(ctx.spec),
  commitsEachObject: true,
  load: (load) => loadChunked({ ...load, pool: ctx.pool, spec: ctx.spec, ids: ctx.ids, signal: ctx.signal, recordMaxBytes: ctx.recordMaxBytes, sessions: ctx.entry.sessions(ctx.ids.target, connectionsPerWorker(ctx.spec)) }),
  finish: async (totals) => ({ rowsLoaded: totals.rowsLoaded, changedTarget: true, result: {} }),
  abort: async () => {},
  release: async () => {},
  close: async () => {},
});
