// What PostgreSQL takes, as rules for requests: the largest int4 and int8, and text it can store (no
// NUL, no half surrogate pair: sql/storable.ts). The validator gives the text rule to every string and
// every object's field names in every request schema (validation.ts), so a query string, a path
// parameter or a job spec holding such text is a 400 naming the field, and no route can forget it.
import type { Ajv } from 'ajv';
import { isStorableText } from '../sql/storable.js';

export const INT4_MAX = 2_147_483_647;
export const INT8_MAX = 9_223_372_036_854_775_807n;

/** The keyword a string schema carries for the text rule. */
export const STORABLE_TEXT = 'storableText';

export function addStorableTextKeyword(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: STORABLE_TEXT,
    type: 'string',
    schemaType: 'boolean',
    errors: false,
    validate: (on: boolean, data: string) => !on || isStorableText(data),
  });
}

// Where a schema holds schemas. `not` and `if` are left alone: the rule there would turn around.
const schemaMaps = ['properties', 'patternProperties', '$defs', 'definitions'];
const schemaLists = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const oneSchema = ['additionalProperties', 'items', 'contains', 'then', 'else', 'propertyNames'];

/** A copy of `schema` whose every string and every object's field names carry the text rule. */
export function withStorableText(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out: Record<string, unknown> = { ...(schema as Record<string, unknown>) };
  for (const k of schemaMaps) {
    const map = out[k];
    if (map && typeof map === 'object') out[k] = Object.fromEntries(Object.entries(map).map(([name, s]) => [name, withStorableText(s)]));
  }
  for (const k of schemaLists) if (Array.isArray(out[k])) out[k] = (out[k] as unknown[]).map(withStorableText);
  for (const k of oneSchema) {
    if (Array.isArray(out[k])) out[k] = (out[k] as unknown[]).map(withStorableText);
    else if (out[k] !== undefined) out[k] = withStorableText(out[k]);
  }
  const types = ([] as unknown[]).concat(out.type ?? []);
  if (types.includes('string')) out[STORABLE_TEXT] = true;
  if (types.includes('object') && typeof (out.propertyNames ?? {}) === 'object') out.propertyNames = { ...((out.propertyNames as object | undefined) ?? {}), [STORABLE_TEXT]: true };
  return out;
}
