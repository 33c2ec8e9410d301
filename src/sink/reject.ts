// A record the database refused, as reported to the user (GET /jobs/:id/rejects), and its text; and the
// two ways a bad record fails a load that allows no rejects, for every load path.
import { hasSqlState, isDataError } from '../db/sqlstate.js';
import { copyErrorPosition } from './copySql.js';

export interface Reject {
  /** Line formats: the line in the source, from 1 (header included); null for Parquet. */
  line: number | null;
  byteOffset: number | null;
  column: string | null;
  sqlstate: string;
  message: string;
  record: string;
  /** Parquet: where the row is (no lines in Parquet), all from 0. */
  position?: { rowGroup: number; row: number; absoluteRow: number };
}

const MAX_RECORD_TEXT = 2000;

/** Where a reject was, for people: its line, or for Parquet its row (and row group). */
export function rejectPlace(r: Pick<Reject, 'line' | 'position'>): string {
  if (r.line !== null) return String(r.line);
  if (r.position) return `row ${r.position.absoluteRow} (group ${r.position.rowGroup} row ${r.position.row})`;
  return '-';
}

/** Record text for reports: PostgreSQL text and jsonb cannot hold NUL, so it shows as U+FFFD. */
export function printable(text: string): string {
  const cut = text.length > MAX_RECORD_TEXT ? `${text.slice(0, MAX_RECORD_TEXT)}…` : text;
  return cut.replace(/\u0000/g, '\uFFFD');
}

/** The error a record the decoder refused fails a load with when no rejects are allowed; it carries the reject. */
export function refusedRecordError(reject: Reject): Error {
  return Object.assign(new Error(reject.message), { code: reject.sqlstate, reject });
}

/**
 * A COPY that failed on a bad record: the error gets the record as its reject, at the file's line
 * (`lineOf` maps the line COPY counted to the file's), with the record's text as PostgreSQL quoted it.
 * Any other error is returned as it is.
 */
export function withCopyReject(err: unknown, lineOf: (copyLine: number) => number | null): unknown {
  if (!hasSqlState(err) || !isDataError(err)) return err;
  const pos = copyErrorPosition(err);
  const text = /: "(.*)"$/s.exec((err as { where?: string }).where?.split('\n')[0] ?? '')?.[1] ?? '';
  const reject: Reject = {
    line: pos.record !== undefined ? lineOf(pos.record) : null,
    byteOffset: null,
    column: pos.column ?? null,
    sqlstate: err.code,
    message: err.message ?? '',
    record: printable(text),
  };
  return Object.assign(err as object, { reject });
}
