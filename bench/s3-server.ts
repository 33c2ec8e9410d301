// The embedded S3 endpoint as a process of its own, so its CPU and memory are not counted as the
// benchmark's. Prints one JSON line ({endpoint, accessKeyId, secretAccessKey}) on stdout when it is
// listening, and stops (removing its objects) when its stdin closes, which also happens when the
// benchmark dies, or on SIGTERM/SIGINT.
import { startEmbeddedS3 } from '../src/dev/embeddedS3.js';

const s3 = await startEmbeddedS3({ buckets: (process.argv[2] ?? 'bench').split(',') });
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey })}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  s3.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
