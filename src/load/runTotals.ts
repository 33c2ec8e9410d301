// What a run's files add up to, summed as each file finishes: a run over a streamed listing keeps its
// totals, not one result per file (ingest.run_files holds those, and GET /jobs/:id/files pages them).
import type { MergeCounts } from '../sql/jobRows.js';
import type { FileResult } from './objectLoad.js';
import { sumMergeCounts } from './mergeRun.js';

/** Skipped files the job's result names one by one; `filesSkipped` counts them all. */
export const SKIPPED_SHOWN = 100;
/** Rejects the job's result shows; `rejects.count` counts them all. */
const REJECTS_SHOWN = 5;

export interface SkippedFile {
  url: string;
  runId: string;
  jobId: string;
  loadedAt: string;
  rowsLoaded: number;
}

export class RunTotals {
  /** Files finished (loaded, validated or skipped). */
  files = 0;
  filesLoaded = 0;
  filesSkipped = 0;
  rowsLoaded = 0;
  rowsRejected = 0;
  blankLines = 0;
  bytesRead = 0;
  readonly firstRejects: FileResult['firstRejects'] = [];
  /** The first SKIPPED_SHOWN skipped files. */
  readonly skipped: SkippedFile[] = [];
  merge: MergeCounts | undefined;

  add(url: string, result: FileResult): void {
    this.files += 1;
    this.rowsLoaded += result.rowsLoaded;
    this.rowsRejected += result.rowsRejected;
    this.blankLines += result.blankLines;
    this.bytesRead += result.bytesRead;
    if (result.status === 'loaded') this.filesLoaded += 1;
    if (result.status === 'skipped') {
      this.filesSkipped += 1;
      if (this.skipped.length < SKIPPED_SHOWN) this.skipped.push({ url, ...result.loadedBy! });
    }
    for (const r of result.firstRejects) if (this.firstRejects.length < REJECTS_SHOWN) this.firstRejects.push(r);
    if (result.merge) this.merge = sumMergeCounts([this.merge, result.merge]);
  }
}
