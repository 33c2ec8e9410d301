// Refuses to run on a Node older than package.json's "engines" asks for, with one line saying which
// Node is needed and how to get it. Imported first by every entry point (the service's src/entry.ts,
// the CLI, the test runner), so nothing else has run when it refuses. Plain JavaScript: it must run
// before the TypeScript loader is registered.
// The compiled service carries a copy at dist/bin/ (tsconfig.build.json), so package.json is the first
// one found above this file, not a fixed number of levels up.
import { existsSync, readFileSync } from 'node:fs';

function packageJsonAbove(url) {
  for (let dir = new URL('./', url); ; dir = new URL('../', dir)) {
    const candidate = new URL('package.json', dir);
    if (existsSync(candidate)) return candidate;
    if (dir.pathname === '/') throw new Error(`no package.json above ${url}`);
  }
}

const { engines } = JSON.parse(readFileSync(packageJsonAbove(import.meta.url), 'utf8'));
const needed = Number(/\d+/.exec(engines.node)[0]);
const major = Number(process.versions.node.split('.')[0]);

if (major < needed) {
  console.error(
    `citus-ingest needs Node ${needed} or newer (this is ${process.versions.node}): on Linux x64 run ` +
      `export PATH="$(bash scripts/node${needed}.sh):$PATH"; elsewhere get Node ${needed} from https://nodejs.org`,
  );
  process.exit(1);
}
