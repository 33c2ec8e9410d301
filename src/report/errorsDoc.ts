// Renders docs/errors.md from the error catalogue, so the documented codes are the code's codes.
import { errorCodes } from '../errors.js';

export function errorsMarkdown(): string {
  const rows = Object.entries(errorCodes).map(
    ([code, e]) => `| \`${code}\` | ${e.status} | ${e.retryable ? 'yes' : 'no'} | ${e.doc} |`,
  );
  return [
    '# Error codes',
    '',
    'Every error the API returns or a job records has the shape `{"error": {"code", "message", "details"}}`.',
    'The codes below are stable; `message` is for people and may change. `retried` says whether a worker',
    'tries the load again (with backoff, up to `JOB_ATTEMPTS`) or fails the job at once. This file is',
    'generated from `src/errors.ts` by `npm run docs:errors`; a test keeps it in step.',
    '',
    '| code | HTTP status | retried | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
