// Benchmark 5 — big documents (docs/BENCHMARKS.md).
//
//   node bench/bigdoc.mjs [rounds=5]
//
// A generated 2 MB markdown book (chapters, sections, paragraphs of varied length, lists,
// quotes, emphasis, links, a code block and a table per chapter: ~10,000 spoken blocks)
// is imported with POST /v1/documents (JSON body), then read back with
// GET /v1/documents/{id}: client-side wall time and response size, medians of ROUNDS.
// Reference in the same run: doc_build on the same file in-process (build/bench/doc_ref:
// parsing, splitting and rendering without HTTP, JSON or SQLite). Goal: import < 1 s.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { build, startServer, tempDir, ROOT, median, fmt, table, machine, now, markdownBook } from './lib.mjs';

const ROUNDS = Number(process.argv[2] || 5);
build();

const md = markdownBook(2 * 1024 * 1024);
const dir = tempDir();
const file = join(dir, 'book.md');
writeFileSync(file, md);
const ref = JSON.parse(execFileSync(join(ROOT, 'build/bench/doc_ref'), [file, String(ROUNDS)]).toString());

const s = await startServer({ workers: 0 });
const body = JSON.stringify({ content: md, format: 'markdown', title: 'The big book' });
const post = [], get = [];
let blocks = 0, size = 0, id, lengths = [];
for (let r = 0; r < ROUNDS; r++) {
  let t = now();
  const res = await fetch(`${s.url}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const created = await res.json();
  post.push(now() - t);
  if (res.status !== 201) throw new Error(`POST: ${res.status} ${JSON.stringify(created)}`);
  blocks = created.block_count;
  id = created.id;
  t = now();
  const g = await fetch(`${s.url}/v1/documents/${id}`);
  const buf = Buffer.from(await g.arrayBuffer());
  get.push(now() - t);
  size = buf.length;
  const got = JSON.parse(buf);
  if (g.status !== 200 || got.blocks.length !== blocks) throw new Error('GET: bad document');
  lengths = got.blocks.map((b) => b.text.length);
}
const list = await fetch(`${s.url}/v1/documents`);
await list.text();
await s.stop();

console.log(`# Big documents — ${fmt(md.length / 2 ** 20, 2)} MiB markdown, ${blocks} blocks, ${ROUNDS} rounds, medians (${machine()})`);
console.log(`spoken blocks: median ${median(lengths)} characters, ${lengths.filter((l) => l < 60).length} under 60`);
table('import and read back', ['measure', 'median ms', 'min ms', 'max ms', 'size'], [
  ['doc_build in-process (reference: parse + split + render)', fmt(median(ref.ms)), fmt(Math.min(...ref.ms)), fmt(Math.max(...ref.ms)), `${ref.blocks} blocks, html ${fmt(ref.html_bytes / 2 ** 20, 2)} MiB`],
  ['POST /v1/documents (JSON) → 201', fmt(median(post)), fmt(Math.min(...post)), fmt(Math.max(...post)), `request ${fmt(body.length / 2 ** 20, 2)} MiB`],
  ['GET /v1/documents/{id} → 200 (whole body)', fmt(median(get)), fmt(Math.min(...get)), fmt(Math.max(...get)), `response ${fmt(size / 2 ** 20, 2)} MiB`],
]);
console.log(`\ngoal: import < 1 s: ${median(post) < 1000 ? 'met' : 'missed'} (median ${fmt(median(post) / 1000, 3)} s)`);
