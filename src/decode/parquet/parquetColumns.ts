// Which Parquet column fills which target column, and how its values become COPY text. Checked in
// prepare(), before any data: a nested column into a column that is not json/jsonb, a type this
// loader cannot convert, and a NOT NULL column without default that nothing fills all fail here,
// naming the column (IngestError INVALID_SPEC, details.column).
import type { SchemaElement, SchemaTree } from 'hyparquet';
import { IngestError } from '../../errors.js';
import {
  bigEndianSigned,
  byteaText,
  decimalText,
  float32Text,
  jsonText,
  timeText,
  utf8Text,
  type TimeUnit,
} from './parquetText.js';

/** What the loader knows of a target column. */
export interface TargetColumn {
  name: string;
  /** NOT NULL. Default false. */
  notNull?: boolean;
  /** Has a default (or is generated). Default false. */
  hasDefault?: boolean;
  /** Its type as format_type() names it ("jsonb", "text"...); without it no type check is made. */
  type?: string;
}

/** One target column filled from one top-level Parquet field. */
export interface MappedColumn {
  /** Index of the target column (COPY order). */
  target: number;
  /** The top-level Parquet field's name. */
  name: string;
  /** Its leaf columns: path in the schema, and the schema path to decode it with. */
  leaves: Array<{ path: string[]; schemaPath: SchemaTree[] }>;
  /** A struct, list or map (assembled from its leaves) rather than one leaf. */
  nested: boolean;
  /** A value's COPY text (null for NULL). */
  text: (value: unknown) => string | null;
}

const JSON_TYPES = new Set(['json', 'jsonb']);

/**
 * Maps the file's top-level fields onto the target's columns: by name (`rename` first: file name to
 * column name), exactly, else case-insensitively when that is unambiguous. Returns the mapped
 * columns and the target columns nothing fills (they get NULL).
 */
export function mapColumns(
  root: SchemaTree,
  columns: string[],
  rename: Record<string, string> | undefined,
  targets: TargetColumn[] | undefined,
): { mapped: MappedColumn[]; unfilled: string[] } {
  const byTarget = new Map<number, MappedColumn>();
  const lower = columns.map((c) => c.toLowerCase());
  for (const field of root.children) {
    const name = field.element.name;
    const wanted = rename && Object.hasOwn(rename, name) ? rename[name]! : name;
    let target = columns.indexOf(wanted);
    if (target < 0) {
      const matches = lower.flatMap((c, i) => (c === wanted.toLowerCase() ? [i] : []));
      if (matches.length === 1) target = matches[0]!;
    }
    if (target < 0) continue;
    const column = columns[target]!;
    if (byTarget.has(target)) {
      throw invalid(`Parquet fields "${byTarget.get(target)!.name}" and "${name}" both map to column "${column}"; rename one`, column);
    }
    byTarget.set(target, mapField(root, field, target, column, targets?.find((t) => t.name === column)));
  }
  const unfilled = columns.filter((_, i) => !byTarget.has(i));
  for (const column of unfilled) {
    const t = targets?.find((x) => x.name === column);
    if (t?.notNull && !t.hasDefault) {
      throw invalid(`column "${column}" is NOT NULL without a default and no Parquet field fills it; add the field, rename one to it, or leave the column out`, column);
    }
  }
  return { mapped: [...byTarget.values()].sort((a, b) => a.target - b.target), unfilled };
}

function mapField(root: SchemaTree, field: SchemaTree, target: number, column: string, t: TargetColumn | undefined): MappedColumn {
  const el = field.element;
  const nested = field.children.length > 0 || el.repetition_type === 'REPEATED';
  const leaves: MappedColumn['leaves'] = [];
  const walk = (node: SchemaTree, path: SchemaTree[]): void => {
    if (node.children.length === 0) leaves.push({ path: node.path, schemaPath: path });
    for (const child of node.children) walk(child, [...path, child]);
  };
  walk(field, [root, field]);
  if (nested) {
    const type = t?.type?.toLowerCase();
    if (type !== undefined && !JSON_TYPES.has(type)) {
      throw invalid(`Parquet field "${el.name}" is nested (struct, list or map) and column "${column}" is ${t!.type}; only a json or jsonb column can take it`, column);
    }
    return { target, name: el.name, leaves, nested, text: (v) => (v === null || v === undefined ? null : jsonText(v)) };
  }
  const leaf = leafText(el, column);
  if (leaf.raw) {
    // Read without its annotation, so hyparquet gives the unscaled integer (its own DECIMAL is a double).
    const bare: SchemaElement = { ...el, converted_type: undefined, logical_type: undefined };
    leaves[0]!.schemaPath = [root, { ...field, element: bare }];
  }
  const text = leaf.text;
  return { target, name: el.name, leaves, nested, text: (v) => (v === null || v === undefined ? null : text(v)) };
}

/** How one leaf's values (as hyparquet gives them, with parquetText's parsers) become text. */
function leafText(el: SchemaElement, column: string): { text: (v: unknown) => string; raw?: boolean } {
  const { type, converted_type: ct, logical_type: lt } = el;
  const logical = lt?.type;
  if (ct === 'DECIMAL' || logical === 'DECIMAL') {
    const scale = lt?.type === 'DECIMAL' ? lt.scale : (el.scale ?? 0);
    if (type === 'INT32' || type === 'INT64') return { raw: true, text: (v) => decimalText(BigInt(v as number | bigint), scale) };
    return { raw: true, text: (v) => decimalText(bigEndianSigned(v as Uint8Array), scale) };
  }
  if (ct === 'INTERVAL' || logical === 'INTERVAL' || ct === 'BSON' || logical === 'BSON') {
    throw invalid(`Parquet field "${el.name}" has type ${ct ?? logical}, which cannot be loaded; leave column "${column}" out`, column);
  }
  // Timestamps come as text from the parsers; an instant gets its zone here.
  if (logical === 'TIMESTAMP') {
    const zone = lt?.type === 'TIMESTAMP' && lt.isAdjustedToUTC ? '+00' : '';
    return { text: (v) => `${v as string}${zone}` };
  }
  if (ct === 'TIMESTAMP_MILLIS' || ct === 'TIMESTAMP_MICROS' || type === 'INT96') return { text: (v) => `${v as string}+00` };
  if (logical === 'TIME' || ct === 'TIME_MILLIS' || ct === 'TIME_MICROS') {
    const unit: TimeUnit = lt?.type === 'TIME' ? lt.unit : ct === 'TIME_MILLIS' ? 'MILLIS' : 'MICROS';
    const zone = lt?.type === 'TIME' && !lt.isAdjustedToUTC ? '' : '+00';
    return { text: (v) => timeText(v as number | bigint, unit) + zone };
  }
  if (ct === 'UTF8' || logical === 'STRING' || ct === 'JSON' || logical === 'JSON') return { text: (v) => v as string };
  if (ct === 'DATE' || logical === 'DATE' || logical === 'UUID' || logical === 'GEOMETRY' || logical === 'GEOGRAPHY') return { text: (v) => v as string };
  if (ct === 'ENUM' || logical === 'ENUM') return { text: (v) => (typeof v === 'string' ? v : utf8Text(v as Uint8Array)) };
  switch (type) {
    case 'BOOLEAN':
      return { text: (v) => (v ? 'true' : 'false') };
    case 'FLOAT':
      return { text: (v) => (typeof v === 'number' ? float32Text(v) : String(v)) };
    case 'BYTE_ARRAY':
    case 'FIXED_LEN_BYTE_ARRAY':
      return { text: (v) => (v instanceof Uint8Array ? byteaText(v) : String(v)) };
    default:
      // INT32, INT64 (bigint), unsigned, FLOAT16 and DOUBLE: String() is exact, NaN and ±Infinity included.
      return { text: (v) => String(v) };
  }
}

function invalid(message: string, column: string): IngestError {
  return new IngestError('INVALID_SPEC', message, { field: 'target.columns', column });
}
