import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { badHeaderThenGood, type BadHeaderOutcome } from './helpers/badHeaderJobs.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// The machine's own Node, when it is older than the project needs (Node 20 on many machines).
const olderNode = '/usr/bin/node';
const olderMajor = existsSync(olderNode) ? Number(spawnSync(olderNode, ['-p', 'process.versions.node.split(".")[0]']).stdout.toString()) : 0;
const noOlderNode = olderMajor === 0 || olderMajor >= 24 ? `${olderNode} is not a Node older than 24` : false;

// The environment without the test runner's own hooks (NODE_OPTIONS imports of tap's process tracking).
const plainEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !/^_?TAP/i.test(name)));

function onOlderNode(args: string[], timeout = 60_000) {
  return spawnSync(olderNode, args, {
    cwd: root,
    timeout,
    // Were the check missing, the service would try this database and fail, not start.
    env: { ...plainEnv, PORT: '0', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', LOG_LEVEL: 'silent' },
  });
}

t.test('the service, the CLI and the test runner refuse an older Node with one line naming Node 24 and how to get it', { skip: noOlderNode }, async (t) => {
  const entryPoints = [
    ['--import', 'tsx', 'src/entry.ts', 'all'],
    ['bin/citus-ingest.mjs', '--help'],
    ['scripts/run-tests.mjs', 'test/no-such.test.ts'],
  ];
  for (const args of entryPoints) {
    const run = onOlderNode(args);
    const stderr = run.stderr.toString();
    t.equal(run.status, 1, `${args.join(' ')} exits 1 (${stderr})`);
    t.equal(run.stdout.toString(), '', 'and prints nothing else');
    t.equal(stderr.trim().split('\n').length, 1, 'one line');
    t.match(stderr, new RegExp(`needs Node 24 or newer \\(this is ${olderMajor}\\.`));
    t.match(stderr, /scripts\/node24\.sh/);
    t.match(stderr, /https:\/\/nodejs\.org/);
  }
  // npm test: its pretest refuses before the typecheck runs.
  if (existsSync('/usr/bin/npm')) {
    const npm = spawnSync('/usr/bin/npm', ['test', '--silent'], { cwd: root, timeout: 60_000, env: { ...plainEnv, PATH: '/usr/bin:/bin' } });
    t.equal(npm.status, 1, `npm test exits 1 (${npm.stderr.toString()})`);
    t.same(npm.stderr.toString().trim().split('\n'), [`citus-ingest needs Node 24 or newer (this is ${olderNodeVersion()}): on Linux x64 run export PATH="$(bash scripts/node24.sh):$PATH"; elsewhere get Node 24 from https://nodejs.org`]);
  }
});

function olderNodeVersion(): string {
  return spawnSync(olderNode, ['-p', 'process.versions.node']).stdout.toString().trim();
}

function checkOutcome(t: Test, o: BadHeaderOutcome): void {
  t.equal(o.bad.status, 'failed');
  t.equal(o.bad.code, 'TARGET_COLUMN_NOT_FOUND');
  t.match(o.bad.message, /"county"/);
  t.equal(o.bad.attempts, 1);
  t.equal(o.good.status, 'succeeded', 'the same service loads the next job');
  t.equal(o.good.rowsLoaded, 2);
  t.equal(o.rows, 2, 'only the good file\'s rows are in the table');
}

t.test('a header naming an unknown column fails its job, and the worker keeps serving', async (t) => {
  checkOutcome(t, await badHeaderThenGood());
});

// No case runs the service itself on the older Node: it is refused at start (above), and its outbound
// client (undici 8) does not load there. The crash's cause, a throw inside a stream's _write that Node
// before 24 let escape, is fixed in sink/copySink.ts whichever Node runs it.
