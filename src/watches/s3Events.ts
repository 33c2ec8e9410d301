// S3 event notifications as S3 and MinIO's webhook target send them (`Records[]`, each with
// s3.bucket.name and s3.object.key, the key URL-encoded with '+' for spaces), and the "Object Created"
// event EventBridge delivers through an API destination (detail.bucket.name, detail.object.key).
import { invalidEvent, isObject, requiredString, unquote, type ObjectEvent } from './objectEvent.js';

/** An S3 key as notifications write it: form-encoded. */
function decodeKey(key: string, field: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    throw invalidEvent('s3', field, 'is not a URL-encoded key');
  }
}

function fromRecord(record: unknown, i: number): ObjectEvent {
  const at = `/Records/${i}`;
  if (!isObject(record) || !isObject(record.s3)) throw invalidEvent('s3', `${at}/s3`, 'must be an object');
  // S3 writes "ObjectCreated:Put", MinIO "s3:ObjectCreated:Put".
  const eventName = requiredString('s3', record.eventName, `${at}/eventName`).replace(/^s3:/, '');
  const bucket = requiredString('s3', record.s3.bucket?.name, `${at}/s3/bucket/name`);
  const key = decodeKey(requiredString('s3', record.s3.object?.key, `${at}/s3/object/key`), `${at}/s3/object/key`);
  return { scheme: 's3', bucket, key, created: eventName.startsWith('ObjectCreated:'), version: unquote(record.s3.object.eTag), type: eventName };
}

function fromEventBridge(event: Record<string, any>): ObjectEvent {
  const detail = event.detail;
  if (!isObject(detail)) throw invalidEvent('s3', '/detail', 'must be an object');
  const type = requiredString('s3', event['detail-type'], '/detail-type');
  return {
    scheme: 's3',
    bucket: requiredString('s3', detail.bucket?.name, '/detail/bucket/name'),
    key: requiredString('s3', detail.object?.key, '/detail/object/key'),
    created: type === 'Object Created',
    version: unquote(detail.object.etag),
    type,
  };
}

/** The events of one S3 (or MinIO, or EventBridge) delivery; INVALID_EVENT for any other body. */
export function parseS3Events(body: unknown): ObjectEvent[] {
  if (!isObject(body)) throw invalidEvent('s3', '(root)', 'must be a JSON object');
  if (body.source === 'aws.s3' || 'detail-type' in body) return [fromEventBridge(body)];
  // S3's s3:TestEvent, sent when a notification is configured, has no Records: nothing to do.
  if (body.Event === 's3:TestEvent') return [];
  if (!Array.isArray(body.Records)) throw invalidEvent('s3', '/Records', 'must be an array (or the body an EventBridge event)');
  return body.Records.map(fromRecord);
}
