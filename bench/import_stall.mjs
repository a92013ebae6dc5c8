// Benchmark 8 — imports off the service thread (issue 13; docs/BENCHMARKS.md).
//
//   node bench/import_stall.mjs [rounds=3] [seconds=4] [json|multipart]
//
// 100 WebSocket clients each ask, one after the other, for a block that is already cached
// (the cached-status path: lookup + one status message). Each round measures that latency
// twice in the same server: idle, and while 10 MiB markdown books are imported back to back
// with POST /v1/documents (JSON body, ~10 MiB; parsing, splitting and the insert of ~50,000
// blocks). Reported: p50/p99/max of each phase and the ratio of the p99s (median of ROUNDS).
// `multipart` uploads the same book as a file (book.md), the way the page does: the body is
// then spooled to disk by the spooler thread (server/spool.c) before the pool parses it.
// Before imports moved to the offload pool, one such import held the service thread for
// most of a second and every client waited behind it.
import { build, startServer, Client, cachedLoop, synth, waitFinal, pct, median, fmt, table, machine, now, markdownBook } from './lib.mjs';

const ROUNDS = Number(process.argv[2] || 3);
const SECONDS = Number(process.argv[3] || 4);
const MODE = process.argv[4] || 'json';
const CLIENTS = 100;
const BLOCKS = 16;
build();

const s = await startServer({ workers: 1, args: ['--max-body-mb', '64'] });
const text = Array.from({ length: BLOCKS }, (_, i) => `Block ${i} of the cached page is short.`).join('\n\n');
const doc = await s.createDoc(text, 'text');
const warm = await Client.connect(s.wsUrl);
warm.send(synth(doc.id, Array.from({ length: BLOCKS }, (_, i) => i)));
await waitFinal(warm, doc.id, Array.from({ length: BLOCKS }, (_, i) => i));
warm.close();

const clients = [];
for (let i = 0; i < CLIENTS; i++) {
  const c = await Client.connect(s.wsUrl);
  c.keep = false;
  clients.push(c);
}
const book = markdownBook(10 * 1024 * 1024);
const body = JSON.stringify({ content: book, format: 'markdown' });
const post = () => {
  if (MODE !== 'multipart')
    return fetch(`${s.url}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const form = new FormData();
  form.append('file', new Blob([book]), 'book.md');
  return fetch(`${s.url}/v1/documents`, { method: 'POST', body: form });
};

const idle = [], busy = [], imports = [];
for (let r = 0; r < ROUNDS; r++) {
  idle.push((await cachedLoop(clients, [doc.id], BLOCKS, SECONDS)).lat);
  let stop = false, ids = [];
  const importer = (async () => {
    while (!stop) {
      const t = now();
      const res = await post();
      const j = await res.json();
      if (res.status !== 201) throw new Error(`import: ${res.status} ${JSON.stringify(j)}`);
      imports.push({ ms: now() - t, blocks: j.block_count });
      ids.push(j.id);
    }
  })();
  await new Promise((r2) => setTimeout(r2, 300));   // the first import is under way
  busy.push((await cachedLoop(clients, [doc.id], BLOCKS, SECONDS)).lat);
  stop = true;
  await importer;
  for (const id of ids) await fetch(`${s.url}/v1/documents/${id}`, { method: 'DELETE' });
}
for (const c of clients) c.close();
await s.stop();

const row = (name, lats) => [name, fmt(median(lats.map((l) => pct(l, 50))), 2), fmt(median(lats.map((l) => pct(l, 99))), 2),
  fmt(median(lats.map((l) => l.reduce((a, b) => (b > a ? b : a), 0))), 1), String(median(lats.map((l) => l.length)))];
console.log(`# Cached-status latency while 10 MiB books are imported (${MODE}) — ${CLIENTS} WebSocket clients, ${ROUNDS} rounds of ${SECONDS} s, medians (${machine()})`);
table('cached status round trip', ['phase', 'p50 ms', 'p99 ms', 'max ms', 'requests'], [
  row('idle (reference, same run)', idle),
  row('while importing 10 MiB books back to back', busy),
]);
const ratio = median(busy.map((l) => pct(l, 99))) / median(idle.map((l) => pct(l, 99)));
console.log(`\nimports: ${imports.length}, median ${fmt(median(imports.map((i) => i.ms)) / 1000, 2)} s each, ${median(imports.map((i) => i.blocks))} blocks`);
console.log(`p99 while importing / p99 idle: ${fmt(ratio, 2)}× (goal ≤ 2×: ${ratio <= 2 ? 'met' : 'missed'})`);
process.exit(0);
