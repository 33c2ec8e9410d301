// Parquet values as the text PostgreSQL's input functions take: exact decimals, dates and timestamps
// in ISO form (BC years as PostgreSQL writes them), bytea hex, and JSON text for nested values.
import type { ParquetParsers } from 'hyparquet';

export type TimeUnit = 'MILLIS' | 'MICROS' | 'NANOS';

const DIGITS: Record<TimeUnit, number> = { MILLIS: 3, MICROS: 6, NANOS: 9 };
const PER_SECOND: Record<TimeUnit, bigint> = { MILLIS: 1000n, MICROS: 1_000_000n, NANOS: 1_000_000_000n };
const textDecoder = new TextDecoder();

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Days since 1970-01-01 to a proleptic Gregorian (year, month, day); year 0 is 1 BC. */
function civil(days: number): [number, number, number] {
  // H. Hinnant's days-to-civil: eras of 400 years, days counted from 0000-03-01.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

let lastDays = Number.NaN;
let lastDate: [string, string] = ['', ''];

/** `YYYY-MM-DD`, and the era suffix (" BC" before year 1, as PostgreSQL reads it). */
function datePart(days: number): [string, string] {
  // The last day asked for is kept: a file's consecutive rows often share their date.
  if (days === lastDays) return lastDate;
  const [y, m, d] = civil(days);
  const bc = y <= 0;
  lastDays = days;
  lastDate = [`${pad(bc ? 1 - y : y, 4)}-${two(m)}-${two(d)}`, bc ? ' BC' : ''];
  return lastDate;
}
function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A DATE (days since the epoch) as `YYYY-MM-DD` (or `YYYY-MM-DD BC`). */
export function dateText(days: number): string {
  const [date, era] = datePart(days);
  return date + era;
}

function timeOfDay(seconds: number, fraction: number | bigint, unit: TimeUnit): string {
  if (seconds === 0 && Number(fraction) === 0) return '00:00:00';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  let text = `${two(h)}:${two(m)}:${two(seconds % 60)}`;
  if (Number(fraction) !== 0) text += '.' + fraction.toString().padStart(DIGITS[unit], '0').replace(/0+$/, '');
  return text;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A timestamp (units since the epoch) as `YYYY-MM-DD HH:MM:SS[.fraction]`, and `zone` (`+00` for an
 * instant, '' for a local date-time) before the era suffix. Within 2^53 units (every microsecond
 * timestamp of years -283,000 to 287,000) the arithmetic is on numbers, where it is exact; beyond, on
 * bigints.
 */
export function timestampText(value: bigint | number, unit: TimeUnit, zone = ''): string {
  let s: number;
  let fraction: number | bigint;
  if (typeof value === 'number' || (value <= SAFE && value >= -SAFE)) {
    const n = Number(value);
    const per = Number(PER_SECOND[unit]);
    s = Math.floor(n / per);
    let f = n - s * per;
    // n / per is rounded; the remainder puts the quotient right.
    if (f < 0) {
      f += per;
      s -= 1;
    } else if (f >= per) {
      f -= per;
      s += 1;
    }
    fraction = f;
  } else {
    const perSecond = PER_SECOND[unit];
    let seconds = value / perSecond;
    let f = value % perSecond;
    if (f < 0n) {
      f += perSecond;
      seconds -= 1n;
    }
    s = Number(seconds);
    fraction = f;
  }
  const days = Math.floor(s / 86400);
  const [date, era] = datePart(days);
  return `${date} ${timeOfDay(s - days * 86400, fraction, unit)}${zone}${era}`;
}

/** A TIME (units since midnight) as `HH:MM:SS[.fraction]`. */
export function timeText(value: bigint | number, unit: TimeUnit): string {
  const perSecond = PER_SECOND[unit];
  const v = BigInt(value);
  return timeOfDay(Number(v / perSecond), v % perSecond, unit);
}

/** An unscaled DECIMAL value with `scale` applied, exactly. */
export function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) {
    digits += '0'.repeat(-scale);
  }
  return negative ? `-${digits}` : digits;
}

/** A big-endian two's complement integer (DECIMAL on a byte array). */
export function bigEndianSigned(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
  const value = BigInt(`0x${hex}`);
  return bytes[0]! & 0x80 ? value - (1n << BigInt(bytes.length * 8)) : value;
}

/** Binary as bytea's hex input form. */
export function byteaText(bytes: Uint8Array): string {
  return '\\x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** UTF-8 bytes as text. */
export function utf8Text(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}

/** A FLOAT (float32) as the shortest decimal that reads back as the same float32. */
export function float32Text(value: number): string {
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  for (let p = 6; p < 9; p++) {
    const text = value.toPrecision(p);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(Number(value.toPrecision(9)));
}

/**
 * Any decoded value as JSON text: nested structs, lists and maps for a json or jsonb column. Bigints
 * are written as JSON numbers (exact), binary as "\\x..." strings, non-finite floats as strings.
 */
export function jsonText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : `"${value}"`;
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof Uint8Array) return JSON.stringify(byteaText(value));
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      if (Array.isArray(value) || ArrayBuffer.isView(value)) {
        const items = Array.from(value as ArrayLike<unknown>, jsonText);
        return `[${items.join(',')}]`;
      }
      const fields: string[] = [];
      for (const [k, v] of Object.entries(value)) fields.push(`${JSON.stringify(k)}:${jsonText(v)}`);
      return `{${fields.join(',')}}`;
    }
    default:
      return 'null';
  }
}

/**
 * The parsers hyparquet converts logical types with: timestamps and dates to PostgreSQL text (the
 * zone, when the column is an instant, is added per column), JSON kept as its text, geometry as
 * hex WKB (what PostGIS reads).
 */
export const textParsers: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (v: bigint) => timestampText(v, 'MILLIS'),
  timestampFromMicroseconds: (v: bigint) => timestampText(v, 'MICROS'),
  timestampFromNanoseconds: (v: bigint) => timestampText(v, 'NANOS'),
  dateFromDays: (days: number) => dateText(days),
  stringFromBytes: (bytes: Uint8Array) => bytes && utf8Text(bytes),
  jsonFromBytes: (bytes: Uint8Array) => bytes && utf8Text(bytes),
  geometryFromBytes: (bytes: Uint8Array) => bytes && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex'),
  geographyFromBytes: (bytes: Uint8Array) => bytes && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex'),
};
