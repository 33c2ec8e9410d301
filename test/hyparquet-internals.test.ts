// The Parquet decoder reads pages with hyparquet's internal modules (hyparquet/src/*.js), which its
// package does not promise to keep. hyparquet is pinned to an exact version (package.json), and this
// test is where an upgrade that changes what the decoder uses fails: the inventory below must be every
// internal symbol src/decode/parquet imports, each must still be there and do what the decoder expects,
// and both page versions must still decode through them.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { laterOutput } from '../src/decode/decoder.js';
import { ParquetDecoder } from '../src/decode/parquet/parquetDecoder.js';

/** module -> the symbols the decoder imports from it (type-only imports are not code). */
const inventory: Record<string, string[]> = {
  'hyparquet/src/assemble.js': ['assembleNested'],
  'hyparquet/src/column.js': ['parquetHeader', 'readColumn', 'readPage'],
  'hyparquet/src/convert.js': ['DEFAULT_PARSERS', 'convert'],
  'hyparquet/src/datapage.js': ['decompressPage', 'readDataPage', 'readDataPageV2'],
  'hyparquet/src/encoding.js': ['readRleBitPackedHybrid'],
  'hyparquet/src/plain.js': ['readPlain'],
  'hyparquet/src/schema.js': ['getMaxDefinitionLevel'],
  'hyparquet/src/utils.js': ['flatten'],
};

const parquetDir = fileURLToPath(new URL('../src/decode/parquet/', import.meta.url));

t.test('hyparquet is pinned to one version', async (t) => {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
  t.match(pkg.dependencies.hyparquet, /^\d+\.\d+\.\d+$/, 'an exact version, no range');
});

t.test('the inventory is every internal symbol the decoder imports', async (t) => {
  const found: Record<string, string[]> = {};
  for (const name of await readdir(parquetDir)) {
    const text = await readFile(`${parquetDir}${name}`, 'utf8');
    for (const m of text.matchAll(/^import (type )?\{([^}]*)\} from '(hyparquet\/src\/[^']+)';$/gm)) {
      if (m[1]) continue;
      const names = m[2]!.split(',').map((s) => s.trim()).filter((s) => s && !s.startsWith('type '));
      found[m[3]!] = [...(found[m[3]!] ?? []), ...names].sort();
    }
  }
  t.same(found, inventory);
});

t.test('every inventoried symbol is still exported, as code', async (t) => {
  for (const [path, names] of Object.entries(inventory)) {
    const mod = (await import(path)) as Record<string, unknown>;
    for (const name of names) t.ok(mod[name] !== undefined && mod[name] !== null, `${path} exports ${name}`);
  }
});

t.test('the small helpers behave as the decoder relies on', async (t) => {
  const { readPlain } = await import('hyparquet/src/plain.js');
  const { readRleBitPackedHybrid } = await import('hyparquet/src/encoding.js');
  const { decompressPage } = await import('hyparquet/src/datapage.js');
  const { getMaxDefinitionLevel } = await import('hyparquet/src/schema.js');
  const { flatten } = await import('hyparquet/src/utils.js');
  const { convert, DEFAULT_PARSERS } = await import('hyparquet/src/convert.js');

  const ints = new DataView(new Int32Array([7, -2]).buffer);
  t.same(Array.from(readPlain({ view: ints, offset: 0 }, 'INT32', 2, undefined) as ArrayLike<number>), [7, -2], 'plain INT32');

  // One RLE run: header varint (4 << 1), then the value in one byte: four 1s.
  const rle = new Uint8Array([8, 1]);
  const levels = new Array<number>(4);
  readRleBitPackedHybrid({ view: new DataView(rle.buffer), offset: 0 }, 1, levels, rle.length);
  t.same(levels, [1, 1, 1, 1], 'an RLE run of definition levels');

  const page = new Uint8Array([1, 2, 3]);
  t.equal(decompressPage(page, 3, 'UNCOMPRESSED', {}), page, 'an uncompressed page is the bytes');
  t.throws(() => decompressPage(page, 4, 'UNCOMPRESSED', {}), /does not match/, 'a size that disagrees with the header is refused');

  const optional = { element: { name: 'c', repetition_type: 'OPTIONAL' } };
  t.equal(getMaxDefinitionLevel([{ element: { name: 'root' } }, optional] as never), 1, 'an optional column has one definition level');
  t.same(flatten([[1, 2], [3]]), [1, 2, 3]);

  const text = convert([new TextEncoder().encode('héllo')], { element: { name: 'c', type: 'BYTE_ARRAY', converted_type: 'UTF8' }, parsers: DEFAULT_PARSERS, utf8: true } as never);
  t.same(Array.from(text as ArrayLike<unknown>), ['héllo'], 'UTF8 byte arrays become strings');
});

t.test('both data page versions decode through the internal page readers', async (t) => {
  for (const version of [1, 2]) {
    const file = await readFile(fileURLToPath(new URL(`fixtures/parquet/pages-v${version}.parquet`, import.meta.url)));
    const decoder = new ParquetDecoder({ columns: ['id', 'name'], trackRecords: false });
    const range = await decoder.prepare(async (r) => file.subarray(r.start, r.end), file.length);
    const out: Buffer[] = [];
    decoder.push(file.subarray(range.start, range.end), out);
    out.push(...laterOutput(decoder, { ms: 0 }));
    decoder.end(out);
    out.push(...laterOutput(decoder, { ms: 0 }));
    const lines = Buffer.concat(out).toString('utf8').split('\n').filter(Boolean);
    t.equal(lines.length, 3000, `v${version}: every row`);
    t.equal(lines[1], '"1","name1"', `v${version}: a row's values`);
  }
});
