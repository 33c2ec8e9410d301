// Where the CSV framer dropped blank lines (COPY would refuse them), to map the line numbers COPY names
// in its errors back to the file's: every blank line before a record moves it one line down.

/** At most this many blank-line positions are kept (8 MB); past them, later lines map as if none were dropped. */
const MAX_BLANK_POSITIONS = 1_000_000;

export class BlankLines {
  /** Original line numbers of dropped blank lines, ascending. */
  private readonly at: number[] = [];

  /** Line `line` of the file was blank and dropped. Lines come in ascending order. */
  dropped(line: number): void {
    if (this.at.length < MAX_BLANK_POSITIONS) this.at.push(line);
  }

  /** The file's line of the record on line `copyLine` of a COPY whose first record is on line `startLine`. */
  originalLineFrom(startLine: number, copyLine: number): number {
    let line = startLine + copyLine - 1;
    for (const blank of this.at) {
      if (blank < startLine) continue;
      if (blank <= line) line++;
      else break;
    }
    return line;
  }
}
