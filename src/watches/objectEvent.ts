// What every provider's notification comes down to: an object that was created (or something else that
// happened to one), in the terms a watch's prefix is written in. Each provider's parser (s3Events.ts,
// gcsEvents.ts, azureEvents.ts) turns its native payload into these.
import { IngestError } from '../errors.js';

export type Provider = 's3' | 'gcs' | 'azure';

export interface ObjectEvent {
  /** The URL scheme of the store: "s3", "gs" or "az". */
  scheme: 's3' | 'gs' | 'az';
  /** The bucket, or the Azure container. */
  bucket: string;
  /** The Azure storage account, when the event names it. */
  account?: string;
  /** The object's key, decoded. */
  key: string;
  /** True for a created (or overwritten) object; anything else a watch counts and ignores. */
  created: boolean;
  /**
   * The object's version as a listing of the store reports it (the ETag, without quotes): with the key it
   * is the object's identity, so an event and a listing of the same object start one job.
   */
  version: string;
  /** The provider's own name for what happened (ObjectCreated:Put, OBJECT_FINALIZE, Microsoft.Storage.BlobCreated). */
  type: string;
}

/** A payload that is not in the provider's format: 400 INVALID_EVENT naming the field. */
export function invalidEvent(provider: Provider, field: string, reason: string): IngestError {
  return new IngestError('INVALID_EVENT', `not a ${provider} event notification: ${field} ${reason}`, { provider, field, reason });
}

/** The string at `field` of `value`, or INVALID_EVENT. */
export function requiredString(provider: Provider, value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalidEvent(provider, field, 'must be a non-empty string');
  return value;
}

export const unquote = (etag: unknown): string => (typeof etag === 'string' ? etag.replace(/"/g, '') : '');

export function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
