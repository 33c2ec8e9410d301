// The one entry point: `api`, `worker` or `all` (both in one process). SIGTERM/SIGINT stop taking work,
// let running loads finish for SHUTDOWN_TIMEOUT_MS, roll back what is left, and close every connection.
// The Node check comes first: imports run in order, so nothing else has loaded when it refuses.
import '../bin/supported-node.mjs';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startService, type Role } from './service.js';

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

try {
  const service = await startService({ role, config, log });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    service.stop().then(
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
