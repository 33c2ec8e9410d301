// Parquet as COPY input, one row group at a time, in the generated CSV dialect (decode/copyCsv.ts).
//
// Contract with the loader:
// - prepare(read, size) first: it reads the footer with range reads, maps the file's fields onto the
//   target's columns (parquetColumns.ts; throws IngestError INVALID_SPEC naming the column) and
//   returns the range to stream, from the first row group's first column chunk to the end of the
//   last one's. A file without rows returns an empty range ({start: 4, end: 4}): stream nothing.
// - push() then gets exactly that range's bytes, in order, in chunks of any size. A row group is
//   decoded once its last byte is in, its rows given out, and its bytes let go: memory holds one row
//   group's compressed bytes and its decoded rows. end() throws SOURCE_CORRUPT if a group is missing.
//   A page whose header claims more than the record limit is refused before it is read (pageHeaders.ts).
// - Positions: a record's "line" is its row in the file + 1 (absoluteRow + 1) and its "offset" the
//   index of its row group; describe() turns them into {rowGroup, row, absoluteRow} (line and
//   byteOffset null: a Parquet row has neither).
// - Cuts fall between row groups only: after the first group ending at or past each multiple of
//   cutEvery file bytes (CsvFramer's rule); Cut.offset is where the next group starts, Cut.line its
//   first row + 1. Not after the last group.
// - `unfilled` (after prepare) lists the target columns no field fills: records leave them out, and
//   copyColumns() names the columns they do fill (so a column's default applies to the rest).
import { parquetMetadataAsync, parquetSchema, type FileMetaData } from 'hyparquet';
import { IngestError } from '../../errors.js';
import { CutRule, RecordPositions, type Cut } from '../positions.js';
import type { ByteRange } from '../../sources/source.js';
import { CopyLineMap, generatedCsvFormat } from '../copyCsv.js';
import { CopyCsvWriter } from '../copyCsvWriter.js';
import type { DecoderOptions, DecoderStats, RangeReader, RecordDecoder, SourcePosition } from '../decoder.js';
import { mapColumns, type MappedColumn, type TargetColumn } from './parquetColumns.js';
import { PageCursor, readGroupColumn } from './rowGroupReader.js';
import { groupOfRow, rowGroupsOf, type Group } from './rowGroups.js';
import { defaultLimit, type RecordLimit } from '../recordLimit.js';

export type { TargetColumn } from './parquetColumns.js';

export interface ParquetDecoderOptions extends DecoderOptions {
  /** The target's columns in COPY order: every record has exactly these fields, in this order. */
  columns: string[];
  /** Parquet field name to target column, for fields named otherwise in the file. Default: none. */
  rename?: Record<string, string>;
  /**
   * What the loader knows of the target's columns, for the checks prepare() makes (NOT NULL columns
   * nothing fills; nested fields into non-json columns). Default: no checks.
   */
  targetColumns?: TargetColumn[];
}

export interface ParquetStats extends DecoderStats {
  /** Row groups decoded. */
  rowGroups: number;
}

/** A row group being given out: its columns' readers and the next row. */
interface Emitting {
  group: Group;
  index: number;
  texts: Array<(v: unknown) => string | null>;
  cursors: Array<PageCursor | undefined>;
  whole: ArrayLike<unknown>[];
  row: number;
}

/** Rows whose text becomes one output Buffer. */
const SLICE_ROWS = 8192;

/** Bytes of the footer read first: one request for most files. */
const FOOTER_GUESS = 64 << 10;

export class ParquetDecoder implements RecordDecoder {
  readonly copyFormat = generatedCsvFormat;
  readonly acceptsGzip = false;
  readonly headerBytes = undefined;
  readonly records = new RecordPositions();
  cuts: Cut[] = [];
  /** Target columns no Parquet field fills (after prepare). */
  unfilled: string[] = [];
  /** Indexes into options.columns of the columns some field fills, in COPY order. */
  private fillColumns: number[] = [];

  /** The target columns the records fill, in order (known after prepare()). */
  copyColumns(): string[] {
    return this.fillColumns.map((c) => this.opts.columns[c]!);
  }
  metadata: FileMetaData | undefined;

  private readonly opts: ParquetDecoderOptions;
  private readonly limit: RecordLimit;
  private mapped: MappedColumn[] = [];
  private groups: Group[] = [];
  /** The row group being read, and the file offset of the next byte pushed. */
  private gi = 0;
  private pos = 0;
  /** Groups whose bytes are all in, not yet given out, and the one being given out. */
  private readonly ready: Array<{ group: Group; bytes: Buffer }> = [];
  private active: Emitting | undefined;
  /** The group whose bytes push() is taking in (gi: the group more() is giving out). */
  private ri = 0;
  /** The current group's bytes so far (when it spans chunks). */
  private buffer: Buffer | undefined;
  private filled = 0;
  private bytesIn = 0;
  private recordCount = 0;
  private outPos = 0;
  /** Output bytes per row in the last slice: the next slice's buffer is sized from it. */
  private bytesPerRow = 256;
  private readonly cutRule: CutRule;
  private readonly lineMap = new CopyLineMap();

  constructor(opts: ParquetDecoderOptions) {
    this.opts = opts;
    this.limit = opts.limit ?? defaultLimit();
    this.cutRule = new CutRule(opts.cutEvery);
  }

  get stats(): ParquetStats {
    return { bytesIn: this.bytesIn, records: this.recordCount, lines: this.recordCount, blankLines: 0, endedInQuote: false, rowGroups: this.gi };
  }

  async prepare(read: RangeReader, size: number): Promise<ByteRange> {
    const file = {
      byteLength: size,
      slice: async (start: number, end?: number): Promise<ArrayBuffer> => {
        const b = await read({ start, end: end ?? size });
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
      },
    };
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file, { initialFetchSize: FOOTER_GUESS, geoparquet: false });
    } catch (err) {
      throw new IngestError('SOURCE_CORRUPT', `not a readable Parquet file: ${(err as Error).message}`, undefined, { cause: err });
    }
    this.metadata = metadata;
    const { mapped, unfilled } = mapColumns(parquetSchema(metadata), this.opts.columns, this.opts.rename, this.opts.targetColumns);
    this.mapped = mapped;
    this.unfilled = unfilled;
    this.fillColumns = mapped.map((m) => m.target).sort((a, b) => a - b);
    this.groups = rowGroupsOf(metadata, size);
    const range = this.groups.length > 0 ? { start: this.groups[0]!.start, end: this.groups.at(-1)!.end } : { start: 4, end: 4 };
    this.pos = range.start;
    return range;
  }

  // push() only gathers bytes: a row group whose bytes are all in waits in `ready`, and more() gives its
  // rows out a slice at a time (a page of each column decoded as the rows reach it), so memory holds one
  // group's compressed bytes and one slice of its text, however many rows the group has.
  push(chunk: Buffer, _out: Buffer[]): void {
    this.bytesIn += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const group = this.groups[this.ri];
      if (!group) throw new IngestError('SOURCE_CORRUPT', 'more Parquet bytes than the footer describes');
      if (this.pos < group.start) {
        // Between groups (nothing a group needs): skipped.
        const skip = Math.min(chunk.length - at, group.start - this.pos);
        at += skip;
        this.pos += skip;
        continue;
      }
      const need = group.end - this.pos;
      const take = Math.min(need, chunk.length - at);
      if (this.buffer === undefined && take === group.end - group.start) {
        // The whole group in this chunk: decoded from it, no copy.
        this.received(group, chunk.subarray(at, at + take));
      } else {
        this.buffer ??= Buffer.allocUnsafe(group.end - group.start);
        chunk.copy(this.buffer, this.filled, at, at + take);
        this.filled += take;
        if (this.filled === this.buffer.length) {
          const bytes = this.buffer;
          this.buffer = undefined;
          this.filled = 0;
          this.received(group, bytes);
        }
      }
      at += take;
      this.pos += take;
    }
    this.receiveEmpty();
  }

  end(_out: Buffer[]): void {
    this.receiveEmpty();
    if (this.ri < this.groups.length) {
      throw new IngestError('SOURCE_CORRUPT', `the Parquet data ended in row group ${this.ri} of ${this.groups.length} (at byte ${this.pos})`);
    }
  }

  /** The next slice of rows as COPY input, or undefined when every group received so far is out. */
  more(): Buffer | undefined {
    for (;;) {
      if (!this.active) {
        const next = this.ready.shift();
        if (!next) return undefined;
        this.active = this.startGroup(next.group, next.bytes);
      }
      const piece = this.nextSlice(this.active);
      if (piece) return piece;
      this.finishGroup(this.active.group);
      this.active = undefined;
    }
  }

  private received(group: Group, bytes: Buffer): void {
    this.ready.push({ group, bytes });
    this.ri++;
  }

  /** Row groups without bytes (no columns) are complete without any. */
  private receiveEmpty(): void {
    while (this.ri < this.groups.length && this.groups[this.ri]!.end === this.groups[this.ri]!.start && this.pos >= this.groups[this.ri]!.start) {
      this.received(this.groups[this.ri]!, Buffer.alloc(0));
    }
  }

  /** Sets up the reading of group `gi` from its bytes. */
  private startGroup(group: Group, bytes: Buffer): Emitting {
    const meta = this.metadata!.row_groups[this.gi]!;
    const texts: Array<(v: unknown) => string | null> = [];
    // Flat columns are read a page at a time as rows go out; a nested one is assembled for the whole group.
    const cursors: Array<PageCursor | undefined> = [];
    const whole: ArrayLike<unknown>[] = [];
    for (const column of this.mapped) {
      if (column.nested) whole[column.target] = readGroupColumn(bytes, group.start, meta, group.firstRow, column, this.limit);
      else cursors[column.target] = new PageCursor(bytes, group.start, meta, column, this.limit);
      texts[column.target] = column.text;
    }
    return { group, index: this.gi, texts, cursors, whole, row: 0 };
  }

  /** Up to SLICE_ROWS more rows of the group as one Buffer; undefined once the group is out. */
  private nextSlice(e: Emitting): Buffer | undefined {
    if (e.row >= e.group.rows) return undefined;
    const track = this.opts.trackRecords;
    const filled = this.fillColumns;
    const stop = Math.min(e.group.rows, e.row + SLICE_ROWS);
    const out = new CopyCsvWriter(Math.ceil(this.bytesPerRow * (stop - e.row) * 1.1));
    const base = this.outPos;
    // Column by column, the slice's values (converted for these rows only), then row by row their text.
    const values = filled.map((c) => e.cursors[c]?.take(e.row, stop - e.row) ?? Array.prototype.slice.call(e.whole[c]!, e.row, stop));
    for (let r = e.row; r < stop; r++) {
      for (let k = 0; k < filled.length; k++) out.field(e.texts[filled[k]!]!(values[k]![r - e.row]));
      const line = e.group.firstRow + r + 1;
      if (out.lf > 0 || out.cr > 0) this.lineMap.tall(line, out.lf, out.cr);
      const end = out.endRecord();
      if (track) this.records.push(base + end, line, e.index);
    }
    const output = out.take();
    this.outPos += output.length;
    this.bytesPerRow = output.length / (stop - e.row);
    this.recordCount += stop - e.row;
    e.row = stop;
    return output;
  }

  /** The group is out: the next one's cut, if it is due. */
  private finishGroup(group: Group): void {
    this.gi++;
    const next = this.groups[this.gi];
    if (next && this.cutRule.due(group.end)) {
      this.cuts.push({ out: this.outPos, offset: next.start, line: next.firstRow + 1, records: this.recordCount });
    }
  }

  originalLine(copyLine: number): number {
    return this.lineMap.originalLineFrom(1, copyLine);
  }

  originalLineFrom(startLine: number, copyLine: number): number {
    return this.lineMap.originalLineFrom(startLine, copyLine);
  }

  describe(line: number, _offset: number | null): SourcePosition {
    const absoluteRow = line - 1;
    const rowGroup = groupOfRow(this.groups, absoluteRow);
    const row = absoluteRow - (this.groups[rowGroup]?.firstRow ?? 0);
    return { line: null, byteOffset: null, rowGroup, row, absoluteRow };
  }
}
