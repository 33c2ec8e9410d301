// Cloud Storage through its S3-compatible XML API (https://storage.googleapis.com), which is where
// Dataproc jobs write. It takes HMAC keys (a service account's access ID and secret), not OAuth tokens;
// with them the S3 source reads gs:// buckets unchanged.
import { parseList, type EnvRecord } from '../settingsEnv.js';

export interface GcsSettings {
  endpoint: string;
  accessId: string | undefined;
  secret: string | undefined;
  /** Buckets jobs may read; empty means any. */
  allowedBuckets: string[];
}

export const defaultGcsEndpoint = 'https://storage.googleapis.com';

/**
 * GCS_HMAC_ACCESS_ID + GCS_HMAC_SECRET (together), GCS_ENDPOINT (default Cloud Storage's), and
 * GCS_ALLOWED_BUCKETS. Undefined (gs:// not configured) when neither keys nor an endpoint are set.
 */
export function gcsSettings(env: EnvRecord): GcsSettings | undefined {
  const accessId = env.GCS_HMAC_ACCESS_ID || undefined;
  const secret = env.GCS_HMAC_SECRET || undefined;
  if ((accessId === undefined) !== (secret === undefined)) throw new Error('GCS_HMAC_ACCESS_ID and GCS_HMAC_SECRET must be set together');
  const endpoint = env.GCS_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) throw new Error(`GCS_ENDPOINT must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  if (accessId === undefined && endpoint === undefined) return undefined;
  return { endpoint: endpoint ?? defaultGcsEndpoint, accessId, secret, allowedBuckets: parseList(env.GCS_ALLOWED_BUCKETS) };
}
