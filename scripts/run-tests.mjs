// Runs the tap suite and ends with one plain line: "N passed, N failed, N skipped", counting test
// cases (the t.test blocks of each file). The full TAP stream is kept in .tap/last-run.tap; the console
// shows files, test cases, skips and every failure with its diagnostics.
import '../bin/supported-node.mjs';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

mkdirSync('.tap', { recursive: true });

// tap compiles its plugins into @tapjs/test when it is built; npm installs it built with the default
// set, which includes @tapjs/typescript (ts-node), and package.json's "tap.plugin" leaves that out (tsx
// loads the TypeScript instead). A fresh install is rebuilt once here: under ts-node's own module
// resolver, imports through a package's "exports" patterns (hyparquet/src/*.js) fail.
const builtTest = 'node_modules/@tapjs/test/test-built/dist/esm/index.js';
if (existsSync(builtTest) && readFileSync(builtTest, 'utf8').includes('@tapjs/typescript')) {
  console.log('# building tap with the plugins package.json names (tap build)');
  const build = spawnSync('node_modules/.bin/tap', ['build'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
console.log(`# node ${process.version} (${process.execPath})`);
const full = createWriteStream('.tap/last-run.tap');
const child = spawn('node_modules/.bin/tap', ['--reporter=tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: process.env,
});

let passed = 0;
let failed = 0;
let skipped = 0;
let showingFailure = -1;
const lines = createInterface({ input: child.stdout });
lines.on('line', (line) => {
  full.write(`${line}\n`);
  const m = /^( *)(not ok|ok) \d+ - (.*)$/.exec(line);
  if (m) {
    const depth = m[1].length / 4;
    const bad = m[2] === 'not ok';
    if (depth === 1) {
      if (/# SKIP/.test(m[3])) skipped++;
      else if (bad) failed++;
      else passed++;
    }
    showingFailure = bad ? m[1].length : -1;
    if (depth <= 1 || bad || /# (SKIP|TODO)/.test(m[3])) console.log(line);
    return;
  }
  const indent = /^ */.exec(line)[0].length;
  if (showingFailure >= 0 && indent > showingFailure) {
    console.log(line);
    return;
  }
  showingFailure = -1;
  if (/^ {0,4}# Subtest/.test(line) || /^# /.test(line) || /^ *# (SKIP|skip)/i.test(line)) console.log(line);
});

child.on('close', (code) => {
  full.end();
  // A file that crashed before reporting its cases counts as one failure.
  if (code !== 0 && failed === 0) failed = 1;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code ?? 1);
});
