// Azure Blob Storage events as Event Grid delivers them to a webhook: an array of events in the Event
// Grid schema (eventType, topic, subject, data), or CloudEvents 1.0 (type, source, subject, data), one
// or a batch. The subject names the container and the blob (/blobServices/default/containers/C/blobs/K),
// the topic (or CloudEvents source) the storage account. A new subscription first sends a
// SubscriptionValidationEvent whose data.validationCode must be echoed back as validationResponse.
import { invalidEvent, isObject, requiredString, unquote, type ObjectEvent } from './objectEvent.js';

export const BLOB_CREATED = 'Microsoft.Storage.BlobCreated';
export const SUBSCRIPTION_VALIDATION = 'Microsoft.EventGrid.SubscriptionValidationEvent';

export interface AzureDelivery {
  events: ObjectEvent[];
  /** Set when the delivery is Event Grid's subscription validation: answer { validationResponse }. */
  validationCode?: string;
}

const subjectPattern = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/;
const accountPattern = /\/storageAccounts\/([^/]+)$/;

function fromEvent(event: unknown, at: string): ObjectEvent {
  if (!isObject(event)) throw invalidEvent('azure', at, 'must be an object');
  const cloudEvent = event.specversion !== undefined;
  const type = requiredString('azure', cloudEvent ? event.type : event.eventType, `${at}/${cloudEvent ? 'type' : 'eventType'}`);
  const subject = requiredString('azure', event.subject, `${at}/subject`);
  const blob = subjectPattern.exec(subject);
  if (!blob) throw invalidEvent('azure', `${at}/subject`, 'must be /blobServices/default/containers/<container>/blobs/<name>');
  const account = accountPattern.exec(String((cloudEvent ? event.source : event.topic) ?? ''))?.[1];
  return {
    scheme: 'az',
    bucket: blob[1]!,
    ...(account ? { account } : {}),
    key: blob[2]!,
    created: type === BLOB_CREATED,
    version: unquote(isObject(event.data) ? event.data.eTag : undefined),
    type,
  };
}

/** One Event Grid (or CloudEvents) delivery; INVALID_EVENT for any other body. */
export function parseAzureEvents(body: unknown): AzureDelivery {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) throw invalidEvent('azure', '(root)', 'must hold at least one event');
  const first = list[0];
  if (isObject(first) && first.eventType === SUBSCRIPTION_VALIDATION) {
    const code = requiredString('azure', isObject(first.data) ? first.data.validationCode : undefined, '/0/data/validationCode');
    return { events: [], validationCode: code };
  }
  return { events: list.map((event, i) => fromEvent(event, Array.isArray(body) ? `/${i}` : '')) };
}
