// The service's logger: structured JSON (pino), with secrets redacted wherever they appear.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'citus-ingest' },
      redact: {
        paths: [
          'config.databaseUrl',
          'config.s3SecretAccessKey',
          'config.s3AccessKeyId',
          'req.headers.authorization',
          '*.password',
          '*.secretAccessKey',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
