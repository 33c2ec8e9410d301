// Object-store event notifications as each provider sends them, for the watch tests: S3 records (as S3
// and MinIO's webhook target send them), EventBridge's "Object Created", a Pub/Sub push message for
// Cloud Storage, Event Grid events and CloudEvents for Azure Blob Storage. Field names follow each
// provider's documented schema; the values are what a test's store holds.
import { randomUUID } from 'node:crypto';

/** An S3 key as notifications write it: form-encoded ('+' for a space). MinIO encodes '/' too. */
export function formEncodedKey(key: string, encodeSlash = false): string {
  const encoded = encodeURIComponent(key).replace(/%20/g, '+');
  return encodeSlash ? encoded : encoded.replace(/%2F/g, '/');
}

let sequence = 0;

/** One record of an S3 event notification. `minio` writes MinIO's spelling (s3: prefix, '/' encoded). */
export function s3Record(bucket: string, key: string, eTag: string, opts: { eventName?: string; minio?: boolean } = {}): object {
  const eventName = opts.eventName ?? 'ObjectCreated:Put';
  sequence += 1;
  return {
    eventVersion: '2.1',
    eventSource: opts.minio ? 'minio:s3' : 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName: opts.minio ? `s3:${eventName}` : eventName,
    userIdentity: { principalId: 'test' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': randomUUID() },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'watch-test',
      bucket: { name: bucket, ownerIdentity: { principalId: 'test' }, arn: `arn:aws:s3:::${bucket}` },
      object: { key: formEncodedKey(key, opts.minio), size: 1, eTag, sequencer: sequence.toString(16).padStart(16, '0').toUpperCase() },
    },
  };
}

/** An S3 notification body: MinIO's webhook adds EventName and Key beside Records. */
export function s3Notification(records: object[], minio = false): object {
  const first = records[0] as any;
  return minio ? { EventName: first.eventName, Key: `${first.s3.bucket.name}/${first.s3.object.key}`, Records: records } : { Records: records };
}

/** EventBridge's "Object Created" event for an S3 object, as an API destination posts it. */
export function eventBridgeEvent(bucket: string, key: string, etag: string): object {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: { version: '0', bucket: { name: bucket }, object: { key, size: 1, etag, sequencer: '0062E99A88DC407460' }, 'request-id': 'N4N7GDK58NMKJ12R', requester: '123456789012', reason: 'PutObject' },
  };
}

/** A Pub/Sub push delivery of a Cloud Storage notification (payload format JSON_API_V1). */
export function pubSubPush(bucket: string, key: string, md5Hex: string, eventType = 'OBJECT_FINALIZE'): object {
  const resource = { kind: 'storage#object', bucket, name: key, generation: '1700000000000000', md5Hash: Buffer.from(md5Hex, 'hex').toString('base64'), size: '1' };
  return {
    message: {
      attributes: { bucketId: bucket, objectId: key, eventType, objectGeneration: resource.generation, payloadFormat: 'JSON_API_V1', notificationConfig: `projects/_/buckets/${bucket}/notificationConfigs/1` },
      data: Buffer.from(JSON.stringify(resource)).toString('base64'),
      messageId: String(Date.now()),
      publishTime: new Date().toISOString(),
    },
    subscription: 'projects/test/subscriptions/ingest-push',
  };
}

const topic = (account: string): string => `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/${account}`;
const blobData = (blobUrl: string, eTag: string) => ({ api: 'PutBlob', eTag, contentType: 'text/csv', contentLength: 1, blobType: 'BlockBlob', url: blobUrl, sequencer: '000000000000000000000000000099240000000000c41c18' });

/** An Event Grid (its own schema) BlobCreated event. */
export function eventGridBlobCreated(account: string, container: string, key: string, blobUrl: string, eTag: string): object {
  return {
    topic: topic(account),
    subject: `/blobServices/default/containers/${container}/blobs/${key}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    id: randomUUID(),
    data: blobData(blobUrl, eTag),
    dataVersion: '',
    metadataVersion: '1',
    eventTime: new Date().toISOString(),
  };
}

/** A CloudEvents 1.0 BlobCreated event, as Event Grid delivers it with the CloudEvents schema. */
export function cloudEventBlobCreated(account: string, container: string, key: string, blobUrl: string, eTag: string): object {
  return {
    specversion: '1.0',
    type: 'Microsoft.Storage.BlobCreated',
    source: topic(account),
    subject: `/blobServices/default/containers/${container}/blobs/${key}`,
    id: randomUUID(),
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: blobData(blobUrl, eTag),
  };
}

/** Event Grid's first delivery to a new webhook subscription. */
export function eventGridValidation(code: string): object[] {
  return [{
    id: randomUUID(),
    topic: topic('devstoreaccount1'),
    subject: '',
    data: { validationCode: code, validationUrl: `https://rp-westus.eventgrid.azure.net/validate?code=${code}` },
    eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
    eventTime: new Date().toISOString(),
    metadataVersion: '1',
    dataVersion: '2',
  }];
}

/** POSTs an event body; returns the status and the parsed answer. */
export async function postEvent(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** POSTs a watch definition. */
export async function postWatch(url: string, watch: object, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return postEvent(`${url}/watches`, watch, headers);
}
