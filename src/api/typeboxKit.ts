// What the route schemas are written with: the TypeBox that @fastify/type-provider-typebox is built on
// (the `typebox` package, which the provider re-exports), so the request types a handler gets are read
// from its route's schemas. The job spec (src/jobs/specSchema.ts) is still written with
// @sinclair/typebox 0.34; both produce plain JSON schema, and the provider reads a type from either.
// Also the few shapes TypeBox does not write the way the API's schemas have them.
import { Type, type Static, type TProperties, type TSchema, type TSchemaOptions } from '@fastify/type-provider-typebox';

export { Type };

/**
 * One of `values`, as `{ type: 'string', enum }`: TypeBox writes a union of literals as anyOf, whose
 * errors do not read "must be one of ..." and which the OpenAPI document would show as such.
 */
export function OneOfStrings<const Values extends readonly string[]>(values: Values, options: TSchemaOptions = {}) {
  return Type.Unsafe<Values[number]>({ type: 'string', enum: [...values], ...options });
}

/**
 * A field the request may leave out, which the validator then fills in from the schema's `default`
 * (Ajv's useDefaults, validation.ts): optional in the schema, so the OpenAPI document does not mark it
 * required, and always present in the handler's type, since by then it always is.
 */
export function Defaulted<Schema extends TSchema>(schema: Schema): Schema {
  if (!('default' in schema)) throw new Error('Defaulted: the schema has no default to fill the field in with');
  return Type.Optional(schema);
}

/**
 * `schema` that also takes JSON null, written as `type: [<its type>, 'null']` rather than an anyOf, and
 * typed so (read from a JSON schema, such a type array on an object is taken for the object alone).
 */
export function Nullable<const Schema extends TSchema & { type: string }>(schema: Schema) {
  return Type.Unsafe<Static<Schema> | null>({ ...schema, type: [schema.type, 'null'] });
}

/**
 * An answer's object: each of its fields is described, none is required (an answer says what it holds;
 * the service's own types say what is always there).
 */
export function Fields<Properties extends TProperties>(properties: Properties, options: TSchemaOptions = {}) {
  return Type.Partial(Type.Object(properties), options);
}

/** An object of any fields, as `{ type: 'object', additionalProperties: true }` (no empty `properties`). */
export function AnyObject(options: TSchemaOptions = {}) {
  return Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, ...options });
}
