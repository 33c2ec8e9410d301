// Request validation: bodies are checked strictly (no type coercion, unknown fields refused), query
// strings and path parameters are coerced from strings, and every text in either must be text
// PostgreSQL can store (pgValues.ts). Errors become one readable sentence per problem with the JSON
// pointer of the field.
import { sourceShapes } from '../sources/schemes.js';
import { addStorableTextKeyword, STORABLE_TEXT, withStorableText } from './pgValues.js';
import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

const common: Options = { allErrors: true, useDefaults: true, removeAdditional: false, strict: false };
const strictAjv = new Ajv({ ...common, coerceTypes: false });
const coercingAjv = new Ajv({ ...common, coerceTypes: 'array' });
// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
addFormats(strictAjv);
addFormats(coercingAjv);
addStorableTextKeyword(strictAjv);
addStorableTextKeyword(coercingAjv);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strictAjv : coercingAjv;
  return ajv.compile(withStorableText(schema) as object) as ReturnType<FastifySchemaCompiler<unknown>>;
};

export interface FieldProblem {
  field: string;
  reason: string;
}

export function describeProblems(errors: readonly Partial<ErrorObject>[]): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const e of errors) {
    const at = e.instancePath || '';
    const params = (e.params ?? {}) as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        out.push({ field: `${at}/${String(params.missingProperty)}`, reason: 'is required' });
        break;
      case 'additionalProperties':
        out.push({ field: `${at}/${String(params.additionalProperty)}`, reason: 'is not a known field' });
        break;
      case 'pattern':
        out.push({ field: at, reason: patternReason(at) });
        break;
      case STORABLE_TEXT:
        out.push({
          field: at,
          reason: `${e.propertyName === undefined ? 'holds' : 'has a field name holding'} a NUL character (\\u0000) or half a surrogate pair, which PostgreSQL cannot store`,
        });
        break;
      case 'enum':
        out.push({ field: at, reason: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` });
        break;
      default:
        out.push({ field: at, reason: e.message ?? 'is invalid' });
    }
  }
  // allErrors can report the same field twice (type, then format); keep the first.
  const seen = new Set<string>();
  return out.filter((p) => (seen.has(p.field) ? false : (seen.add(p.field), true)));
}

function patternReason(field: string): string {
  if (field === '/source/url') return `must be one of ${sourceShapes()} (one object), or such a URL ending in / (every object under it)`;
  if (field === '/target/table') return 'must be a table name, schema.table or table (double-quote parts with other characters)';
  if (/^\/format\/(delimiter|quote|escape)$/.test(field)) return 'must be one ASCII character (COPY takes one-byte characters only)';
  if (field === '/format/encoding') return 'must be an encoding name PostgreSQL knows, such as UTF8, LATIN1 or WIN1252';
  return 'has an invalid format';
}
