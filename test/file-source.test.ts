// The file:// source against real temporary directories: roots (as written and with links resolved),
// recursive listings, pinned and ranged reads, and the parser's refusals.
import t from 'tap';
import { mkdir, mkdtemp, realpath, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { FileSource } from '../src/sources/file/source.js';
import { fileSettings } from '../src/sources/file/settings.js';
import { fileScheme } from '../src/sources/file/url.js';
import type { ObjectRef } from '../src/sources/source.js';
import { listAll } from '../src/sources/listing.js';

async function setup(t: { teardown(fn: () => unknown): void }) {
  // realpath: the temp dir may itself sit behind a link (macOS /var -> /private/var).
  const base = await realpath(await mkdtemp(join(tmpdir(), 'file-source-')));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await mkdir(join(root, 'out', 'year=2024', 'month=01'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret.csv'), 'secret\n');
  const source = new FileSource({ settings: fileSettings({ LOCAL_SOURCE_ROOTS: `${root}/` }) });
  const ref = (path: string): ObjectRef => fileScheme.parse(`file://${path}`, '/source/url');
  return { base, root, outside, source, ref };
}

const signal = () => AbortSignal.timeout(5000);

t.test('head reports size, an mtime-size-inode version and lastModified; open reads the whole file or a range', async (t) => {
  const { root, source, ref } = await setup(t);
  const data = 'id,name\n1,alpha\n2,beta\n3,gamma\n';
  await writeFile(join(root, 'a.csv'), data);
  const info = await source.head(ref(`${root}/a.csv`));
  t.equal(info.size, data.length);
  t.match(info.version, /^\d+-\d+-\d+$/);
  t.equal(info.key, `${root}/a.csv`);
  t.equal(info.container, '');
  t.type(info.lastModified, Date);
  t.equal(await text(await source.open(info)), data);
  t.equal(await text(await source.open(info, { start: 8, end: 23 })), data.slice(8, 23));
  t.equal(await text(await source.open(info, { start: 3, end: 3 })), '');
  await t.rejects(source.head(ref(`${root}/missing.csv`)), { code: 'SOURCE_NOT_FOUND' });
  await t.rejects(source.head(ref(`${root}/out`)), { code: 'SOURCE_NOT_FOUND', message: /is a directory; write .*\/out\// });
});

t.test('a file rewritten between head and open fails with SOURCE_CHANGED: in place, or replaced by rename', async (t) => {
  const { root, source, ref } = await setup(t);
  const path = join(root, 'b.csv');
  await writeFile(path, '1,one\n');
  const info = await source.head(ref(path));
  await writeFile(path, '2,two\n'); // same size
  await utimes(path, new Date(), new Date(Date.now() + 5000));
  await t.rejects(source.open(info), { code: 'SOURCE_CHANGED' });
  await t.rejects(source.open(info, { start: 0, end: 2 }), { code: 'SOURCE_CHANGED' });

  // A writer renaming a new file over the old one, same size, same mtime: the inode tells.
  const again = await source.head(ref(path));
  const tmp = join(root, '.b.csv.tmp');
  await writeFile(tmp, '3,six\n');
  await utimes(tmp, again.lastModified!, again.lastModified!);
  await rename(tmp, path);
  await t.rejects(source.open(again), { code: 'SOURCE_CHANGED' });
});

t.test('a rewrite in place while the file is read fails the stream at its end', async (t) => {
  const { root, source, ref } = await setup(t);
  const path = join(root, 'c.csv');
  await writeFile(path, 'x'.repeat(1 << 20));
  const info = await source.head(ref(path));
  const stream = await source.open(info);
  await writeFile(path, 'y'.repeat(1 << 20), { flag: 'r+' });
  await utimes(path, new Date(), new Date(Date.now() + 5000));
  await t.rejects(text(stream), { code: 'SOURCE_CHANGED' });
});

t.test('a prefix lists every file below it, markers and checksums included', async (t) => {
  const { root, source, ref } = await setup(t);
  const files: Record<string, string> = {
    'out/_SUCCESS': '',
    'out/part-00000.csv': '1\n',
    'out/.part-00000.csv.crc': 'crc',
    'out/year=2024/month=01/part-00001.csv': '2\n3\n',
    'out/year=2024/month=01/.part-00001.csv.crc': 'crc',
    'other.csv': 'not listed\n',
  };
  for (const [name, body] of Object.entries(files)) await writeFile(join(root, name), body);
  await mkdir(join(root, 'out', 'empty'));
  const listed = await listAll(source.list(ref(`${root}/out/`), signal()));
  t.same(
    listed.map((o) => [o.key.slice(root.length + 1), o.size]),
    Object.entries(files).filter(([name]) => name.startsWith('out/')).map(([name, body]) => [name, body.length]).sort(([a], [b]) => (a! < b! ? -1 : 1)),
  );
  const deep = listed.find((o) => o.key.endsWith('part-00001.csv'))!;
  t.equal(await text(await source.open(deep)), '2\n3\n', 'a listed file opens with its listed version');
  await t.rejects(listAll(source.list(ref(`${root}/nowhere/`), signal())), { code: 'SOURCE_NOT_FOUND' });
});

t.test('list walks in key order a page at a time (a folder sorts where its keys go), and a cancel stops it', async (t) => {
  const { root, source, ref } = await setup(t);
  // "b.csv" < "b/..." < "b0.csv" and "b-1.csv" < "b.csv": a walk of each folder before its siblings would get these wrong.
  const names = ['k/b.csv', 'k/b-1.csv', 'k/b0.csv', 'k/b/x.csv', 'k/b/y/z.csv', 'k/a.csv', 'k/c/d.csv'];
  for (const name of names) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), `${name}\n`);
  }
  const keys = (await listAll(source.list(ref(`${root}/k/`), signal()))).map((o) => o.key.slice(root.length + 1));
  t.same(keys, [...names].sort(), 'the order of the keys themselves');

  await mkdir(join(root, 'many'));
  for (let i = 0; i < 2_500; i++) await writeFile(join(root, 'many', `p-${String(i).padStart(5, '0')}.csv`), '1\n');
  const pages: number[] = [];
  for await (const page of source.list(ref(`${root}/many/`), signal())) pages.push(page.length);
  t.same(pages, [1000, 1000, 500], 'pages of 1,000 files');

  const controller = new AbortController();
  const it = source.list(ref(`${root}/k/`), controller.signal)[Symbol.asyncIterator]();
  t.ok(!(await it.next()).done, 'a first page');
  controller.abort(new Error('cancelled'));
  await t.rejects(it.next(), { message: 'cancelled' }, 'the next page rejects with the cancel\'s reason');
});

t.test('roots: paths outside are refused before any file system call; a link leading outside is refused', async (t) => {
  const { root, outside, source, ref } = await setup(t);
  t.throws(() => source.checkAllowed(ref(`${outside}/secret.csv`)), { code: 'SOURCE_FORBIDDEN', message: /not below LOCAL_SOURCE_ROOTS/ });
  t.throws(() => source.checkAllowed(ref(`${root}-sibling/a.csv`)), { code: 'SOURCE_FORBIDDEN' }, 'a sibling sharing the root as a name prefix');
  await t.rejects(source.head(ref(`${outside}/secret.csv`)), { code: 'SOURCE_FORBIDDEN' });

  await symlink(join(outside, 'secret.csv'), join(root, 'escape.csv'));
  await symlink(outside, join(root, 'escape-dir'));
  await t.rejects(source.head(ref(`${root}/escape.csv`)), { code: 'SOURCE_FORBIDDEN', message: /through a symbolic link, outside LOCAL_SOURCE_ROOTS/ });
  await t.rejects(source.head(ref(`${root}/escape-dir/secret.csv`)), { code: 'SOURCE_FORBIDDEN' });
  await t.rejects(source.readText(ref(`${root}/escape.csv`), signal()), { code: 'SOURCE_FORBIDDEN' });
  await t.rejects(listAll(source.list(ref(`${root}/escape-dir/`), signal())), { code: 'SOURCE_FORBIDDEN' });
  const forged = { scheme: 'file', container: '', key: `${root}/escape.csv`, size: 7, version: '1-7-1', contentEncoding: undefined };
  await t.rejects(source.open(forged), { code: 'SOURCE_FORBIDDEN' }, 'open checks too, whatever the listing said');

  await mkdir(join(root, 'links'));
  await writeFile(join(root, 'inside.csv'), 'inside\n');
  await symlink(join(root, 'inside.csv'), join(root, 'links', 'ok.csv'));
  t.same((await listAll(source.list(ref(`${root}/links/`), signal()))).map((o) => o.key), [`${root}/links/ok.csv`], 'a link inside the roots is listed under its own path');
  await symlink(join(outside, 'secret.csv'), join(root, 'links', 'bad.csv'));
  await t.rejects(listAll(source.list(ref(`${root}/links/`), signal())), { code: 'SOURCE_FORBIDDEN' }, 'a listing holding a link outside fails whole');

  const off = new FileSource({ settings: fileSettings({}) });
  t.throws(() => off.checkAllowed(ref(`${root}/inside.csv`)), { code: 'SOURCE_FORBIDDEN', message: /LOCAL_SOURCE_ROOTS is empty/ });
});

t.test('readText reads a marker, undefined when it is missing; ping checks the roots', async (t) => {
  const { base, root, source, ref } = await setup(t);
  await writeFile(join(root, '_SUCCESS'), '{"filenames":[]}');
  t.equal(await source.readText(ref(`${root}/_SUCCESS`), signal()), '{"filenames":[]}');
  t.equal(await source.readText(ref(`${root}/out/_SUCCESS`), signal()), undefined);
  t.equal(await source.readText(ref(`${root}/nowhere/_SUCCESS`), signal()), undefined);
  await source.ping(signal());
  const missing = new FileSource({ settings: fileSettings({ LOCAL_SOURCE_ROOTS: `${root},${base}/unmounted` }) });
  await t.rejects(missing.ping(signal()), /LOCAL_SOURCE_ROOTS: .*unmounted cannot be read/);
});

t.test('the parser: absolute paths only, decoded, no host, no dot segments, no NUL', async (t) => {
  t.same(fileScheme.parse('file:///data/in/a%20b.csv', 'f'), { scheme: 'file', container: '', key: '/data/in/a b.csv' });
  t.same(fileScheme.parse('file:///data//in/', 'f'), { scheme: 'file', container: '', key: '/data/in/' });
  t.equal(fileScheme.url({ scheme: 'file', container: '', key: '/data/in/a b#1.csv' }), 'file:///data/in/a%20b%231.csv');
  t.equal(fileScheme.url(fileScheme.parse('file:///data/in/', 'f')), 'file:///data/in/');
  for (const bad of [
    'file://host/data/a.csv',
    'file://localhost/data/a.csv',
    'file://data/a.csv',
    'file:data/a.csv',
    'file:///data/../etc/passwd',
    'file:///data/%2e%2e/etc/passwd',
    'file:///data/./a.csv',
    'file:///data/a%00.csv',
    'file:///data/a%2Fb.csv',
    'file:///data/a.csv?x',
    'file:///data/a\n.csv',
  ]) {
    t.throws(() => fileScheme.parse(bad, '/source/url'), { code: 'INVALID_SPEC' }, JSON.stringify(bad));
  }
  t.throws(() => fileSettings({ LOCAL_SOURCE_ROOTS: 'relative/dir' }), /LOCAL_SOURCE_ROOTS entry "relative\/dir" is not an absolute path/);
  t.same(fileSettings({ LOCAL_SOURCE_ROOTS: ' /data/ , /mnt/nfs ' }).roots, ['/data', '/mnt/nfs']);
});
