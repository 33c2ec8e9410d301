// The job list's page cursor: the last row's (created_at, id). GET /jobs and the dashboard share it, so
// a cursor from the API works in the dashboard and back.
export interface ListCursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(c: ListCursor): string {
  return Buffer.from(`${c.createdAt}|${c.id}`).toString('base64url');
}

/** The cursor, or undefined when the string is not one this service made. */
export function decodeCursor(s: string): ListCursor | undefined {
  const [createdAt, id] = Buffer.from(s, 'base64url').toString('utf8').split('|');
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  return { createdAt, id };
}
