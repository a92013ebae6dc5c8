// Benchmark 6 — fair share (docs/BENCHMARKS.md).
//
//   node bench/fairshare.mjs [readers=20] [prefetch=32] [workers=2] [rounds=3]
//
// READERS readers start at once, each on a different new document, each asking for its
// first PREFETCH blocks in one `synthesize` (a long prefetch, cursor 0). Measured per
// reader: time to first audio = from its request to the audio bytes of its block 0
// received (status `cached`, then GET /v1/audio/{hash}). Reported p50 / p95 / max over
// readers (all rounds pooled).
//
// References from the same run: the raw engine + encoder time per block (raw_ref with W
// threads, on the first blocks of the same documents) gives what a perfectly fair scheduler would reach —
// reader k of R gets its first block after about ceil((k+1)/W) block times with W workers
// — and what first-come-first-served would give if one reader's whole prefetch ran before
// the next reader's first block: about (k·PREFETCH + 1)/W block times.
import { build, startServer, Client, synth, rawRef, paragraphs, median, pct, fmt, table, machine, now } from './lib.mjs';

const READERS = Number(process.argv[2] || 20);
const PREFETCH = Number(process.argv[3] || 32);
const WORKERS = Number(process.argv[4] || 2);
const ROUNDS = Number(process.argv[5] || 3);
build();

const ttfa = [];
let firstTexts = [];
for (let round = 0; round < ROUNDS; round++) {
  const s = await startServer({ workers: WORKERS });
  const warm = await s.createDoc('Warming up the voice before measuring.');
  const docs = [];
  for (let r = 0; r < READERS; r++) docs.push(await s.createDoc(paragraphs(PREFETCH, `fair${round}x${r}`)));
  if (round === 0) firstTexts = await Promise.all(docs.map(async (d) => (await s.getDoc(d.id)).blocks[0].text));
  const clients = await Promise.all(docs.map(() => Client.connect(s.wsUrl)));
  clients[0].send(synth(warm.id, [0]));
  await clients[0].next((m) => m.type === 'status' && m.status === 'cached', 60_000);
  const idx = Array.from({ length: PREFETCH }, (_, i) => i);
  const results = await Promise.all(clients.map(async (c, r) => {
    const t0 = now();
    const first = c.next((m) => m.type === 'status' && m.document_id === docs[r].id && m.block_idx === 0 && m.status === 'cached', 600_000);
    c.send(synth(docs[r].id, idx, 0));
    const st = await first;
    const res = await fetch(s.url + st.audio_url);
    await res.arrayBuffer();
    return now() - t0;
  }));
  ttfa.push(...results);
  for (const c of clients) c.close();
  await s.stop();
}

// reference: the raw engine + encoder on these documents' first blocks, with W threads as
// the server has W workers: the effective time per block is wall × W / blocks
const raw = rawRef(firstTexts, WORKERS);
const block = (raw.wall_s * 1000 * WORKERS) / firstTexts.length;
const ks = Array.from({ length: READERS }, (_, k) => k);
const fair = ks.map((k) => Math.ceil((k + 1) / WORKERS) * block);
const fifo = ks.map((k) => ((k * PREFETCH + 1) / WORKERS) * block);

console.log(`# Fair share — ${READERS} readers at once, ${PREFETCH}-block prefetch each, ${WORKERS} workers, ${ROUNDS} rounds (${machine()})`);
console.log(`raw engine + encoder, ${WORKERS} threads: ${fmt(block)} ms per block per thread (the first blocks of these documents)`);
table('time to first audio per reader, ms', ['', 'p50', 'p95', 'max'], [
  ['measured (request → audio bytes of block 0)', fmt(median(ttfa)), fmt(pct(ttfa, 95)), fmt(Math.max(...ttfa))],
  ['ideal fair share (reference: ceil((k+1)/W) block times)', fmt(median(fair)), fmt(pct(fair, 95)), fmt(Math.max(...fair))],
  ['first come, first served (reference: whole prefetches in turn)', fmt(median(fifo)), fmt(pct(fifo, 95)), fmt(Math.max(...fifo))],
]);
console.log(`\nmeasured / fair at p95: ${fmt(pct(ttfa, 95) / pct(fair, 95), 2)}×; the slowest reader waited ${fmt(Math.max(...ttfa) / block, 1)} block times`);
