import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

// The image and the bench run the service compiled (`tsc -p tsconfig.build.json`, then
// `node dist/src/entry.js`), not through tsx: whatever the source imports from outside src/ must be
// in that build too. The Node check in bin/ was not, and the compiled service could not start.
const root = fileURLToPath(new URL('..', import.meta.url));
// As deep as dist/ (migrations/ is found three levels above dist/src/db).
const outDir = path.join(root, '.tap-compiled');

t.test('the service compiled as the image builds it starts and answers /healthz', async (t) => {
  rmSync(outDir, { recursive: true, force: true });
  t.teardown(() => rmSync(outDir, { recursive: true, force: true }));
  const build = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', outDir], { cwd: root, timeout: 180_000 });
  t.equal(build.status, 0, `tsc -p tsconfig.build.json: ${build.stdout}${build.stderr}`);

  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !/^_?TAP/i.test(name)));
  const child = spawn(process.execPath, [path.join(outDir, 'src/entry.js'), 'api'], {
    cwd: root,
    env: { ...env, PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', API_TOKENS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "API listening" within 30 s: ${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+)","msg":"API listening"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the compiled service exited ${code}: ${output}`));
    });
  });
  const res = await fetch(`${url}/healthz`);
  t.equal(res.status, 200);
  t.same(await res.json(), { status: 'ok' });
});
