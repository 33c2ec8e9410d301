// The service's logger: structured JSON (pino), with secrets redacted wherever they appear.
import { pino, type Logger } from 'pino';
import { traceFields } from './telemetry/logContext.js';

export type { Logger };

const CENSOR = '[redacted]';

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'citus-ingest' },
      // A line written inside a span carries its trace_id and span_id (telemetry/logContext.ts).
      mixin: traceFields,
      redact: {
        paths: [
          'config.databaseUrl',
          'config.redisUrl',
          'config.s3SecretAccessKey',
          'config.s3AccessKeyId',
          'config.apiTokens',
          'config.notifySecret',
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          '*.password',
          '*.secretAccessKey',
          '*.token',
        ],
        censor: CENSOR,
      },
    },
    destination,
  );
}

/** A connection URL with its password hidden, in the user part or in the query (`?password=`). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    for (const name of [...u.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(name)) u.searchParams.set(name, 'redacted');
    }
    return u.toString();
  } catch {
    return CENSOR;
  }
}

/**
 * The configuration as it can be logged: URLs keep host, port and database but lose their password;
 * keys, secrets and tokens show only whether they are set (and how many tokens there are).
 */
export function describeConfig(config: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) {
    if (/secret|token|password|accessKey/i.test(name)) {
      out[name] = Array.isArray(value) ? `${value.length} set` : value === undefined || value === '' ? 'unset' : CENSOR;
    } else if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      out[name] = redactUrl(value);
    } else {
      out[name] = value;
    }
  }
  return out;
}
