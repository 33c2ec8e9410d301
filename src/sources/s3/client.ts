// The AWS SDK client for S3 and for the S3-compatible APIs (MinIO, Cloud Storage's XML API, s3rver).
import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../config.js';
import { S3RequestHandler } from './requestHandler.js';

export interface S3Settings {
  endpoint: string | undefined;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
}

/**
 * `largeBodies`: the client's GETs go through undici (requestHandler.ts), for objects of megabytes
 * (S3Source sends those through it); every other request keeps the SDK's node:http handler.
 */
export function createS3Client(settings: S3Settings, options: { largeBodies?: boolean } = {}): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    ...(settings.accessKeyId && settings.secretAccessKey
      ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
      : {}),
    // MinIO, s3rver and Cloud Storage do not all speak the SDK's newer default checksums; send them only when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    ...(options.largeBodies ? { requestHandler: new S3RequestHandler() } : {}),
  });
}

/** The two clients an S3Source reads through: `client` for everything, `bodyClient` for large bodies. */
export function createS3Clients(settings: S3Settings): { client: S3Client; bodyClient: S3Client } {
  return { client: createS3Client(settings), bodyClient: createS3Client(settings, { largeBodies: true }) };
}

/** The S3 settings of the service's configuration (S3_*). */
export function s3Settings(config: Pick<Config, 's3Endpoint' | 's3Region' | 's3AccessKeyId' | 's3SecretAccessKey' | 's3ForcePathStyle'>): S3Settings {
  return {
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    accessKeyId: config.s3AccessKeyId,
    secretAccessKey: config.s3SecretAccessKey,
    forcePathStyle: config.s3ForcePathStyle,
  };
}
