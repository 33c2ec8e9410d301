// The service's logger: structured JSON (pino), with secrets redacted wherever they appear.
import { pino, type Logger } from 'pino';
import { requestForLog, SECRET_PARAM } from './api/requestLog.js';
import { traceFields } from './telemetry/logContext.js';

export type { Logger };

const CENSOR = '[redacted]';

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'citus-ingest' },
      // Fastify logs each request with this serializer (it takes the logger's own over its default).
      serializers: { req: requestForLog },
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
          // An event URL may carry a watch's secret (?secret=...): the rest of the URL stays readable.
          'req.url',
        ],
        censor: (value: unknown, path: string[]) => (path.at(-1) === 'url' && typeof value === 'string' ? value.replace(/([?&]secret=)[^&]*/gi, `$1${CENSOR}`) : CENSOR),
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
      if (SECRET_PARAM.test(name)) u.searchParams.set(name, 'redacted');
    }
    return u.toString();
  } catch {
    return CENSOR;
  }
}

/** A setting's name that says its value is a credential. */
const SECRET_NAME = /secret|token|password|accesskey|accessid|^key$|connectionstring|signature|^sas/i;
/** A value that carries a credential whatever its name: a storage connection string or a SAS query. */
const SECRET_VALUE = /(^|;)\s*(AccountKey|SharedAccessSignature)=|[?&]sig=/i;

/**
 * The configuration as it can be logged, at any depth (the sources' settings nest): URLs keep host,
 * port and database but lose their password; keys, secrets, tokens and connection strings show only
 * whether they are set (and how many tokens there are).
 */
export function describeConfig(config: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) out[name] = describeSetting(name, value);
  return out;
}

function describeSetting(name: string, value: unknown): unknown {
  if (SECRET_NAME.test(name)) {
    return Array.isArray(value) ? `${value.length} set` : value === undefined || value === '' ? 'unset' : CENSOR;
  }
  if (typeof value === 'string') {
    if (SECRET_VALUE.test(value)) return CENSOR;
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value;
  }
  if (Array.isArray(value)) return value.map((item) => describeSetting('', item));
  if (value !== null && typeof value === 'object') return describeConfig(value);
  return value;
}
