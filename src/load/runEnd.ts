// Writing down how a run ended, through the database's short absences.
import { isRetryableDbError } from '../db/sqlstate.js';

/** How long recording a run's end waits for the database to come back (a failover takes ttl + loop_wait + a few s). */
const RECORD_END_BUDGET_MS = 60_000;

/**
 * Writes a run's end (its row and its job's), trying again every `retryEveryMs` (a second) while the
 * database is away or the write hit a transient error (a deadlock, a serialization failure).
 * A failed run's failure was often that very loss (a failover, a pooler restart): unrecorded, the run
 * would stay 'running' and the next attempt would close it as SHUTTING_DOWN, losing its real error
 * code. A run that succeeded has committed its files: a lost connection (or any transient error) in
 * writing that down must not turn it into a failed run whose retry finds every file in the ledger and
 * reports none loaded. Gives up after the budget, at once on a non-retryable error, and when the
 * worker is shutting down.
 */
export async function recordRunEnd(write: () => Promise<void>, signal: AbortSignal, retryEveryMs = 1000): Promise<void> {
  const deadline = Date.now() + RECORD_END_BUDGET_MS;
  for (;;) {
    try {
      return await write();
    } catch (err) {
      if (!isRetryableDbError(err) || signal.aborted || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, retryEveryMs));
    }
  }
}
