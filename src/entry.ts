// The one entry point: `api`, `worker` or `all` (both in one process). SIGTERM/SIGINT stop taking work,
// let running loads finish for SHUTDOWN_TIMEOUT_MS, roll back what is left, and close every connection.
// The Node check comes first: imports run in order, so nothing else has loaded when it refuses.
import '../bin/supported-node.mjs';
// Tracing starts next, when the OTEL_* variables ask for it, and the service is imported after it, so
// the instrumentations patch pg and ioredis before the service loads them.
import { startTracing } from './telemetry/tracing.js';

const tracing = await startTracing();
const { ConfigError, loadConfig } = await import('./config.js');
const { createLogger } = await import('./log.js');
const { startService } = await import('./service.js');
type Role = import('./service.js').Role;

const role = (process.argv[2] ?? 'all') as Role;
if (!['api', 'worker', 'all'].includes(role)) {
  console.error(`usage: entry.ts api|worker|all (got ${JSON.stringify(process.argv[2])})`);
  process.exit(2);
}

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
const log = createLogger(config.logLevel);
if (tracing.enabled) log.info('tracing: exporting spans over OTLP');

try {
  const service = await startService({ role, config, log });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    service
      .stop()
      // The spans still buffered are sent before the process ends.
      .then(() => tracing.shutdown().catch((err) => log.warn({ err }, 'tracing: could not send the last spans')))
      .then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'stop failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  log.fatal({ err }, `could not start: ${(err as Error).message}`);
  process.exit(1);
}
