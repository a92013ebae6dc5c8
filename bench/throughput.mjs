// Benchmark 2 — throughput (docs/BENCHMARKS.md).
//
//   node bench/throughput.mjs [blocks=300] [workers=1,2] [rounds=2]
//
// Audio seconds produced per wall second for a whole document (one client asks for every
// block, 32 per `synthesize`, cursor 0), with N worker threads, against the raw engine +
// encoder run with N threads on the same cores over the same texts (build/bench/raw_ref
// --threads N: each thread its own engine instance, blocks from a shared counter). A fresh
// server and data directory per round; server and reference alternate, round by round.
// Goal: server ≥ 0.9 × raw.
import { loadavg } from 'node:os';
import { build, startServer, Client, synth, rawRef, waitFinal, paragraphs, median, fmt, table, machine, now, metric } from './lib.mjs';

const BLOCKS = Number(process.argv[2] || 300);
const WORKERS = (process.argv[3] || '1,2').split(',').map(Number);
const ROUNDS = Number(process.argv[4] || 2);
build();

const content = paragraphs(BLOCKS, 'throughput');   // the same text every round: a fresh data dir each time
let texts;
const rows = [], summary = [];
for (const n of WORKERS) {
  const ratios = [], srvRates = [], rawRates = [], busy = [];
  for (let round = 0; round < ROUNDS; round++) {
    const s = await startServer({ workers: n });
    const warm = await s.createDoc('Warming up the voice before measuring.');
    const doc = await s.createDoc(content);
    if (doc.block_count !== BLOCKS) throw new Error(`expected ${BLOCKS} blocks, got ${doc.block_count}`);
    texts ??= (await s.getDoc(doc.id)).blocks.map((b) => b.text);
    const c = await Client.connect(s.wsUrl);
    c.send(synth(warm.id, [0]));
    await waitFinal(c, warm.id, [0]);
    const m0 = await metric(s, 'recite_synthesis_seconds_total');
    const t0 = now();
    for (let i = 0; i < BLOCKS; i += 32)
      c.send(synth(doc.id, Array.from({ length: Math.min(32, BLOCKS - i) }, (_, k) => i + k), 0));
    const done = await waitFinal(c, doc.id, Array.from({ length: BLOCKS }, (_, i) => i));
    const wall = (now() - t0) / 1000;
    const audio = [...done.values()].reduce((a, m) => a + (m.duration_ms || 0), 0) / 1000;
    const errors = [...done.values()].filter((m) => m.status !== 'cached').length;
    if (errors) throw new Error(`${errors} blocks did not end cached`);
    const engine = (await metric(s, 'recite_synthesis_seconds_total')) - m0;   // summed over workers
    c.close();
    await s.stop();
    const load = loadavg()[0];
    const r = rawRef(texts, n);
    const sr = audio / wall, rr = r.audio_s / r.wall_s;
    ratios.push(sr / rr);
    srvRates.push(sr);
    rawRates.push(rr);
    busy.push(engine / (wall * n));
    rows.push([String(n), String(round + 1), fmt(r.wall_s, 2), fmt(r.audio_s, 1), fmt(rr, 1), fmt(wall, 2), fmt(audio, 1), fmt(sr, 1), fmt(sr / rr, 3) + '×', fmt((100 * engine) / (wall * n), 1) + '%', fmt(load, 2)]);
  }
  const m = median(ratios);
  summary.push([String(n), fmt(median(rawRates), 1), fmt(median(srvRates), 1), fmt(m, 3) + '×', m >= 0.9 ? 'yes' : 'no', fmt(100 * median(busy), 1) + '%']);
}
console.log(`# Throughput — ${BLOCKS}-block document, ${ROUNDS} round(s) per worker count (${machine()})`);
table('each round (server, then the reference right after it)', ['workers', 'round', 'raw wall s', 'raw audio s', 'raw audio s/s', 'server wall s', 'server audio s', 'server audio s/s', 'server / raw', 'workers busy in engine', 'load (1 min)'], rows);
table('medians over rounds', ['workers / threads', 'raw audio s/s', 'server audio s/s', 'server / raw (median of rounds)', 'goal ≥ 0.9×', 'workers busy in engine'], summary);
console.log('\n"workers busy in engine": recite_synthesis_seconds_total (render + encode + level, summed over workers) / (wall × workers),');
console.log('from /metrics: the share of the workers\' time spent in the same code the reference runs; the rest is the server.');
