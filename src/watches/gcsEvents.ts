// Cloud Storage notifications as a Pub/Sub push subscription delivers them: `{message: {attributes,
// data, messageId}, subscription}`, the attributes naming the bucket (bucketId), the object (objectId)
// and what happened (eventType, OBJECT_FINALIZE for a new object), the data the object resource as
// base64 JSON. The version is the object's MD5 in hex, which is the ETag the XML API (the gs:// source)
// lists for it; a composite object has no MD5, and its generation stands in.
import { invalidEvent, isObject, requiredString, type ObjectEvent } from './objectEvent.js';

function objectResource(data: unknown): Record<string, any> {
  if (data === undefined || data === '') return {};
  if (typeof data !== 'string') throw invalidEvent('gcs', '/message/data', 'must be base64 text');
  try {
    const doc = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
    return isObject(doc) ? doc : {};
  } catch {
    // The payload format NONE carries no data; any other text is not one of ours either.
    throw invalidEvent('gcs', '/message/data', 'is not base64 JSON (the notification\'s payload format must be JSON_API_V1 or NONE)');
  }
}

/** The one event of a Pub/Sub push delivery; INVALID_EVENT for any other body. */
export function parseGcsEvents(body: unknown): ObjectEvent[] {
  if (!isObject(body) || !isObject(body.message)) throw invalidEvent('gcs', '/message', 'must be an object');
  const attributes = body.message.attributes;
  if (!isObject(attributes)) throw invalidEvent('gcs', '/message/attributes', 'must be an object');
  const type = requiredString('gcs', attributes.eventType, '/message/attributes/eventType');
  const resource = objectResource(body.message.data);
  const md5 = typeof resource.md5Hash === 'string' ? Buffer.from(resource.md5Hash, 'base64').toString('hex') : '';
  return [{
    scheme: 'gs',
    bucket: requiredString('gcs', attributes.bucketId, '/message/attributes/bucketId'),
    key: requiredString('gcs', attributes.objectId, '/message/attributes/objectId'),
    created: type === 'OBJECT_FINALIZE',
    version: md5 || String(attributes.objectGeneration ?? ''),
    type,
  }];
}
