// Which shape loads a spec: the first entry whose test the spec passes. A new shape is its own file and
// one line here.
import type { JobSpec } from '../../jobs/spec.js';
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
