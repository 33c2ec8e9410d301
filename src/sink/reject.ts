// A record the database refused, as reported to the user (GET /jobs/:id/rejects), and its text.

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
