// Which shape loads a spec: the first entry whose test the spec passes. A new shape is its own file and
// one line here. Also what a shape leaves behind in the database when its process dies mid-run (a
// stage), for a job that ends without running again.
import type { Pool } from '../../db/pool.js';
import type { JobSpec } from '../../jobs/spec.js';
import { dropMergeStage } from '../mergeStage.js';
import { dropStageFor } from '../stagedLoad.js';
import { chunkShape } from './chunkShape.js';
import { fileShape } from './fileShape.js';
import { mergeShape } from './mergeShape.js';
import type { ShapeFactory } from './shape.js';
import { stagedShape } from './stagedShape.js';
import { validateShape } from './validateShape.js';

const shapes: Array<[(spec: JobSpec) => boolean, ShapeFactory]> = [
  [(spec) => spec.dryRun, validateShape],
  [(spec) => spec.mode === 'merge', mergeShape],
  [(spec) => spec.atomicity === 'chunk', chunkShape],
  [(spec) => spec.atomicity === 'job', stagedShape],
  [() => true, fileShape],
];

export function shapeFor(spec: JobSpec): ShapeFactory {
  return shapes.find(([applies]) => applies(spec))![1];
}

type Leftovers = (pool: Pool, spec: JobSpec, jobId: string) => Promise<void>;
const leftovers = new Map<ShapeFactory, Leftovers>([
  [mergeShape, (pool, _spec, jobId) => dropMergeStage(pool, jobId)],
  [stagedShape, dropStageFor],
]);

/**
 * Drops what an attempt of this job may have left behind: a worker killed mid-run cannot drop its stage,
 * and its retry, which would (createStage drops it first), never comes when the job was cancelled
 * meanwhile. Nothing to do for shapes that stage nothing.
 */
export async function dropLeftovers(pool: Pool, spec: JobSpec, jobId: string): Promise<void> {
  await leftovers.get(shapeFor(spec))?.(pool, spec, jobId);
}
