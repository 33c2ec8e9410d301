// The fingerprint an Idempotency-Key is checked against: a hash of the normalized spec in a canonical
// form (object keys sorted at every depth, array order kept), so the same spec sent with its keys in
// another order is the same request.
import { createHash } from 'node:crypto';
import type { JobSpec } from './spec.js';

/** JSON with every object's keys in code-point order; arrays keep their order (it means something). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The hash stored with a job and compared when its Idempotency-Key comes again. */
export function specHash(spec: JobSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

/**
 * The hash jobs stored before canonical hashing used (the spec as sent, keys in the order received):
 * a retry of such a job under its key still matches it.
 */
export function legacySpecHash(spec: JobSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
}
