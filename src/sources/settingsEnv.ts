// What every source's settings reader shares: the environment as a record, and comma-separated lists.

export type EnvRecord = Readonly<Record<string, string | undefined>>;

/** A comma-separated setting as a list, blanks dropped. */
export function parseList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}
