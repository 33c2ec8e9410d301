// A watch's secret: what a sender that cannot set an Authorization header (Event Grid, a Pub/Sub push
// subscription without OIDC) puts in the event URL instead. Only its SHA-256 is stored; a request's
// secret is compared as a digest in constant time, as API tokens are.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretMatches(presented: string | undefined, storedDigest: string): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(Buffer.from(secretDigest(presented), 'hex'), Buffer.from(storedDigest, 'hex'));
}
