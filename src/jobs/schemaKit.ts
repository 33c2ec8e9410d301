// The small pieces the job spec's schemas are built from: patterns for PostgreSQL's names, one-byte COPY
// characters, column lists, and the JSON schema shapes TypeBox does not write the way the API wants them.
import { Type, type SchemaOptions, type Static, type StringOptions, type TSchema, type TUnion } from '@sinclair/typebox';

// A type name as PostgreSQL writes one: words, an optional (n) or (p,s), optional [] suffixes.
export const typeNamePattern = '^[A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z_][A-Za-z0-9_]*){0,3}(?:\\(\\d{1,5}(?:, ?\\d{1,5})?\\))?(?: with(?:out)? time zone)?(?:\\[\\])*$';
// A table name as `schema.table` or `table`; each part an identifier, optionally double-quoted.
export const identPart = '(?:[A-Za-z_][A-Za-z0-9_$]{0,62}|"(?:[^"]|""){1,63}")';

// --- JSON schema shapes TypeBox does not write the way the API wants them ---
// TypeBox writes a union of literals as anyOf, and a literal with a `type` beside its `const`; these keep
// the schema's `enum` (whose errors read "must be one of ...") and its plain `const` and `oneOf`.

/** A string that is one of `values`, as JSON schema's `enum`. */
export function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** Exactly `value`, as a bare `const`. */
export function Const<const T extends string | boolean>(value: T) {
  return Type.Unsafe<T>({ const: value });
}

/** Exactly one of `schemas`. */
export function OneOf<T extends TSchema[]>(schemas: [...T], options: SchemaOptions = {}) {
  return Type.Unsafe<Static<TUnion<T>>>({ oneOf: schemas, ...options });
}

// COPY takes one-byte delimiter, quote and escape characters: ASCII only.
export const oneChar = (options: StringOptions = {}) => Type.String({ minLength: 1, maxLength: 1, pattern: '^[\\u0001-\\u007f]$', ...options });
export const columnName = Type.String({ minLength: 1, maxLength: 63 });
export const columnList = (options: SchemaOptions = {}) => Type.Array(columnName, { minItems: 1, maxItems: 32, uniqueItems: true, ...options });
