// What the shapes that load each file in one transaction share (file, validate, staged, merge): the
// sessions a many-file job keeps between its files, and the call into loadFile with the shape's unit.
import type { JobSpec } from '../../jobs/spec.js';
import { connectionsPerWorker } from '../../sink/citus.js';
import type { FileUnit } from '../fileUnit.js';
import { loadFile } from '../loadFile.js';
import type { FileResult } from '../objectLoad.js';
import { LoadSessions, type Sessions } from '../sessions.js';
import { objectsAtOnce, type ObjectLoad, type ShapeContext } from './shape.js';

export class PerFile {
  /**
   * Many files, one COPY each: they share sessions that keep their Citus worker connections. Loads that
   * enter at every node take them at the nodes in turn.
   */
  readonly sessions: Sessions | undefined;
  /** True when the files enter at every node: the ledger then knows the target by the coordinator's OID. */
  readonly entered: boolean;

  constructor(
    private readonly ctx: ShapeContext,
    /** The table the files' COPYs write into. */
    table: string,
    /** The spec the files load by (a merge loads its files with the stage's columns). */
    private readonly spec: JobSpec = ctx.spec,
  ) {
    const single = ctx.listing.complete && ctx.listing.listed === 1;
    const entered = ctx.entry.sessions(ctx.ids.target, connectionsPerWorker(ctx.spec));
    this.entered = entered !== undefined;
    this.sessions = entered ?? (single ? undefined : new LoadSessions(ctx.pool, table, connectionsPerWorker(ctx.spec)));
  }

  get concurrency(): number {
    return objectsAtOnce(this.ctx.spec);
  }

  load(load: ObjectLoad, unit: FileUnit): Promise<FileResult> {
    const { pool, ids, signal, recordMaxBytes } = this.ctx;
    return loadFile({ ...load, pool, spec: this.spec, ids, signal, recordMaxBytes, unit, sessions: this.sessions });
  }

  close(): Promise<void> {
    return this.sessions?.close() ?? Promise.resolve();
  }
}
