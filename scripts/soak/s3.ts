// The soak's S3 endpoint as a process of its own, on a fixed port and over a directory that outlives it,
// so a restart (a fault the soak injects) keeps the objects. Prints one JSON line when it listens.
import { startEmbeddedS3 } from '../../src/dev/embeddedS3.js';

const s3 = await startEmbeddedS3({ buckets: ['soak'], port: Number(process.argv[2]), directory: process.argv[3]! });
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint })}\n`);
process.on('SIGTERM', () => void s3.stop().then(() => process.exit(0)));
