// The Azure SDK client for the configured storage account (Azure, or Azurite on loopback).
import { BlobServiceClient, StorageSharedKeyCredential, type StoragePipelineOptions } from '@azure/storage-blob';
import type { AzureSettings } from './settings.js';

export interface AzureClient {
  service: BlobServiceClient;
  /** The storage account every az:// URL reads from; abfss:// URLs must name it. */
  account: string;
}

// A few quick retries, as for S3: a job's own retries handle longer outages (the SDK's default waits 4 s, 8 s...).
const pipeline: StoragePipelineOptions = { retryOptions: { maxTries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 4000 } };

export function createAzureClient(settings: Pick<AzureSettings, 'credentials'>): AzureClient {
  const c = settings.credentials;
  if (c.kind === 'connectionString') {
    const service = BlobServiceClient.fromConnectionString(c.connectionString, pipeline);
    return { service, account: service.accountName };
  }
  const endpoint = c.endpoint ?? `https://${c.account}.blob.core.windows.net`;
  return { service: new BlobServiceClient(endpoint, new StorageSharedKeyCredential(c.account, c.key), pipeline), account: c.account };
}
