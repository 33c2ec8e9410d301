// The CSV framer's options and the counts it keeps (csvFramer.ts).
import type { FormatSpec } from '../../jobs/spec.js';
import type { RecordLimit } from '../recordLimit.js';

export interface FramerOptions {
  quote: string;
  escape: string;
  /** Take the first record out as the header. */
  header: boolean;
  /** Drop a UTF-8 byte-order mark at the start (for UTF8 input). */
  dropBom: boolean;
  /** Keep every data record's position in `records` (batch loading needs them; the fast path does not). */
  trackRecords: boolean;
  /**
   * Chunked loading: mark a cut after the first record that ends at or past every multiple of this
   * many bytes of the original file. The cuts depend on the content only, so a retry cuts the same way.
   */
  cutEvery?: number;
  /** The job's CSV dialect: the framer passes records through, so COPY reads them in this one. */
  copyFormat?: FormatSpec;
  /** The most bytes a record may take, line end included. Default: the process's (recordLimit.ts). */
  limit?: RecordLimit;
}

export interface FramerStats {
  /** Bytes taken in. */
  bytesIn: number;
  /** Bytes given out. */
  bytesOut: number;
  /** Data records given out (header and blank lines excluded). */
  records: number;
  /** Physical lines seen. */
  lines: number;
  /** Blank lines dropped. */
  blankLines: number;
  /** `\.` records sent quoted. */
  endMarkersQuoted: number;
  /** Lines the header record took (0 without a header). */
  headerLines: number;
  /** True when the input ended inside a quoted field. */
  endedInQuote: boolean;
}
