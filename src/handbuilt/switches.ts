// The switch for the project's hand-built parts: each can be turned off, and the well-kept alternative
// runs instead (README.md in this folder lists the parts, what each replaces and its measured reason).
//
// CITUS_INGEST_PLAIN names the parts to turn off, comma-separated, or `all`. It is read
// here, once, on first use, and not in config.ts: it is a process-wide switch for measuring a part
// against its alternative, read by code (the read path, the COPY writes) that is given no configuration.
export const PARTS = ['gc', 'scan'] as const;
export type Part = (typeof PARTS)[number];

let off: ReadonlySet<Part> | undefined;

function parse(value: string): Set<Part> {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.includes('all')) return new Set(PARTS);
  const unknown = names.filter((n) => !(PARTS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`CITUS_INGEST_PLAIN: unknown part(s) ${unknown.join(', ')}; known: ${PARTS.join(', ')}, all`);
  return new Set(names as Part[]);
}

/** Whether the hand-built `part` runs (true unless CITUS_INGEST_PLAIN names it). */
export function handbuilt(part: Part): boolean {
  off ??= parse(process.env.CITUS_INGEST_PLAIN ?? '');
  return !off.has(part);
}

/** Turns parts off from code (tests), as CITUS_INGEST_PLAIN would; `''` turns every part back on. */
export function setPlainParts(value: string): void {
  off = parse(value);
}
