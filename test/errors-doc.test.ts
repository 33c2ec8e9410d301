import t from 'tap';
import { readFile } from 'node:fs/promises';
import { errorsMarkdown } from '../src/report/errorsDoc.js';
import { errorCodes } from '../src/errors.js';

t.test('docs/errors.md lists exactly the codes in src/errors.ts', async (t) => {
  const doc = await readFile(new URL('../docs/errors.md', import.meta.url), 'utf8');
  t.equal(doc, errorsMarkdown(), 'regenerate with npm run docs:errors');
  for (const code of Object.keys(errorCodes)) t.match(doc, `| \`${code}\` |`);
});
