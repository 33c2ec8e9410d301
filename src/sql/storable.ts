// Text PostgreSQL can store. A text or jsonb value refuses the NUL character (U+0000), and jsonb also
// refuses half a UTF-16 surrogate pair; an error's message or details can hold either (a header name
// read from a file, a key). Everything the service writes that carries such text (errors, results,
// reject messages and records) goes through here, and the API refuses such text at its edge with the
// same rule (api/pgValues.ts).

/** What a NUL is shown as: the Unicode sign for it, so a message stays readable and says what was there. */
const NUL_SIGN = '\u2400';
const NUL = /\u0000/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// The same, without the global flag's lastIndex: test() on it keeps no state between calls.
const HAS_LONE_SURROGATE = new RegExp(LONE_SURROGATE.source);

/** True when PostgreSQL can store `s` as text and inside jsonb. */
export function isStorableText(s: string): boolean {
  return !s.includes('\u0000') && !HAS_LONE_SURROGATE.test(s);
}

/** `s` with each NUL shown as ␀ and each lone surrogate as U+FFFD. */
export function storableText(s: string): string {
  return s.replace(NUL, NUL_SIGN).replace(LONE_SURROGATE, '\uFFFD');
}

/** JSON.stringify for a jsonb parameter: every string, and every key, made storable. */
export function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'string') return storableText(v);
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => !isStorableText(k))) {
      return Object.fromEntries(Object.entries(v).map(([k, inner]) => [storableText(k), inner]));
    }
    return v;
  });
}
