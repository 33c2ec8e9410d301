// What a worker gives runJob for each attempt, and what an attempt comes to.
import type { Pool } from '../db/pool.js';
import type { Logger } from '../log.js';
import type { EntryNodePools } from '../sink/entryNodes.js';
import type { Sources } from '../sources/registry.js';
import type { Semaphore } from './semaphore.js';

export interface RunContext {
  pool: Pool;
  /** Where bytes come from: one source per configured scheme. */
  sources: Sources;
  log: Logger;
  workerId: string;
  progressIntervalMs: number;
  /** TARGET_ALLOWED_SCHEMAS; empty (the default) means any but the reserved ones. */
  allowedSchemas?: readonly string[];
  /** The worker's global limit on objects loading at once, across its jobs (WORKER_MAX_OBJECTS). */
  objectSlots?: Semaphore;
  /** RECORD_MAX_BYTES: the most one record may take in a decoder. */
  recordMaxBytes?: number;
  /** The worker's pools to every Citus node, for loads that enter at every node (target.entryNodes). */
  entryNodes?: EntryNodePools;
}

export interface AttemptInfo {
  /** Attempts BullMQ made before this one. */
  attemptsMade: number;
  /** Attempts BullMQ allows in all. */
  attempts: number;
}

export type RunOutcomeKind = 'succeeded' | 'cancelled' | 'not-runnable';
