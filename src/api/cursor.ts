// The API's page cursors, made and read in one place. A cursor is the last row's sort key, and it goes
// back into a query: decoding one checks every part is a value PostgreSQL takes (a timestamp in its
// range, a uuid, an integer within int4 or int8, text it can store), so a cursor the service did not
// make is a 400, never a query that fails.
import { INT4_MAX, INT8_MAX } from './pgValues.js';
import { isStorableText } from '../sql/storable.js';

/** The job list's cursor (GET /jobs and the dashboard): the last row's (created_at, id). */
export interface ListCursor {
  createdAt: string;
  id: string;
}

/** A job's files (GET /jobs/:id/files and the job page): the last row's (run attempt, key). */
export interface FilesCursor {
  attempt: number;
  key: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function encode(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The text inside a cursor, split at its first `|`; undefined when it has none. */
function decode(s: string): [string, string] | undefined {
  const text = Buffer.from(s, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  return bar < 1 ? undefined : [text.slice(0, bar), text.slice(bar + 1)];
}

export function encodeCursor(c: ListCursor): string {
  return encode(`${c.createdAt}|${c.id}`);
}

/** The cursor, or undefined when the string is not one this service made. */
export function decodeCursor(s: string): ListCursor | undefined {
  const [createdAt, id] = decode(s) ?? [];
  if (createdAt === undefined || id === undefined || !UUID.test(id)) return undefined;
  // Exactly as Date.toISOString() wrote it, with a four-digit year from 1: a time PostgreSQL can hold.
  const time = Date.parse(createdAt);
  if (Number.isNaN(time) || new Date(time).toISOString() !== createdAt || !/^(?!0000)\d{4}-/.test(createdAt)) return undefined;
  return { createdAt, id };
}

export function encodeFilesCursor(c: FilesCursor): string {
  return encode(`${c.attempt}|${c.key}`);
}

/** The cursor, or undefined when the string is not one this service made. */
export function decodeFilesCursor(s: string): FilesCursor | undefined {
  const [attemptText, key] = decode(s) ?? [];
  if (attemptText === undefined || key === undefined || !/^[1-9][0-9]{0,9}$/.test(attemptText) || !isStorableText(key)) return undefined;
  const attempt = Number(attemptText);
  return attempt <= INT4_MAX ? { attempt, key } : undefined;
}

/** The rejects cursor: the last reject's id (a bigint), as decimal digits; undefined when out of range. */
export function decodeRejectsCursor(s: string): string | undefined {
  return /^[0-9]{1,19}$/.test(s) && BigInt(s) <= INT8_MAX ? s : undefined;
}
