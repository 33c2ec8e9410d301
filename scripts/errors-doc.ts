// Writes docs/errors.md from the error catalogue (npm run docs:errors).
import { writeFile } from 'node:fs/promises';
import { errorsMarkdown } from '../src/report/errorsDoc.js';

await writeFile(new URL('../docs/errors.md', import.meta.url), errorsMarkdown());
