// Benchmark 1 — time to first audio (docs/BENCHMARKS.md).
//
//   node bench/ttfa.mjs [samples=30]
//
// One uncached block at a time: `synthesize` over the WebSocket → the `cached` status, and →
// the audio bytes received with GET /v1/audio/{hash}; against the same block text rendered
// and encoded in-process by the raw engine + encoder (build/bench/raw_ref: engine_render +
// audio_encode_opus, the code a worker runs), measured in the same run on the same machine.
// Server and reference alternate block by block, so both see the same machine load.
// Goal: server ≤ 1.1 × raw + 5 ms.
import { build, startServer, Client, synth, rawServer, paragraphs, median, pct, fmt, table, machine, now, metric } from './lib.mjs';

const N = Number(process.argv[2] || 30);
build();
const s = await startServer({ workers: 2 });
const warm = await s.createDoc('Warming up the voice before measuring.');
const doc = await s.createDoc(paragraphs(N));
const texts = (await s.getDoc(doc.id)).blocks.map((b) => b.text);

const c = await Client.connect(s.wsUrl);
c.keep = false;
c.send(synth(warm.id, [0]));
await c.next((m) => m.type === 'status' && m.status === 'cached', 60_000, 'the warm-up block');

const ref = rawServer();
await ref.render('Warming up the voice before measuring.');
const raw = { ms: [], audio_ms: [] };
const toCached = [], toBytes = [], toQueued = [], engine = [];
for (let i = 0; i < N; i++) {
  const r0 = await ref.render(texts[i]);
  raw.ms.push(r0.ms);
  raw.audio_ms.push(r0.audio_ms);
  const e0 = await metric(s, 'recite_synthesis_seconds_total');
  const t0 = now();
  const queued = c.next((m) => m.type === 'status' && m.block_idx === i, 60_000);
  const cached = c.next((m) => m.type === 'status' && m.block_idx === i && m.status === 'cached', 60_000, `block ${i}`);
  c.send(synth(doc.id, [i]));
  toQueued.push((await queued).t - t0);
  const st = await cached;
  toCached.push(st.t - t0);
  const r = await fetch(s.url + st.audio_url);
  const body = Buffer.from(await r.arrayBuffer());
  if (r.status !== 200 || !body.length) throw new Error(`GET ${st.audio_url}: ${r.status}`);
  toBytes.push(now() - t0);
  engine.push(((await metric(s, 'recite_synthesis_seconds_total')) - e0) * 1000);
}
const outside = toBytes.map((v, i) => v - engine[i]);
c.close();
ref.stop();
await s.stop();

const ratio = toBytes.map((v, i) => v / raw.ms[i]);
const overhead = toBytes.map((v, i) => v - raw.ms[i]);
const goal = (srv, ref) => srv <= 1.1 * ref + 5;

console.log(`# Time to first audio — ${N} uncached blocks, one at a time (${machine()})`);
console.log(`blocks: median ${median(texts.map((t) => t.length))} characters, median ${fmt(median(raw.audio_ms) / 1000, 2)} s of audio`);
table('milliseconds per block', ['measure', 'median', 'p90', 'min', 'max'], [
  ['raw engine + encoder (in-process reference)', fmt(median(raw.ms)), fmt(pct(raw.ms, 90)), fmt(Math.min(...raw.ms)), fmt(Math.max(...raw.ms))],
  ['server: synthesize → first status (queued)', fmt(median(toQueued)), fmt(pct(toQueued, 90)), fmt(Math.min(...toQueued)), fmt(Math.max(...toQueued))],
  ['server: synthesize → cached status', fmt(median(toCached)), fmt(pct(toCached, 90)), fmt(Math.min(...toCached)), fmt(Math.max(...toCached))],
  ['server: synthesize → audio bytes received', fmt(median(toBytes)), fmt(pct(toBytes, 90)), fmt(Math.min(...toBytes)), fmt(Math.max(...toBytes))],
  ['server: of which in the engine (render + encode + level, from /metrics)', fmt(median(engine)), fmt(pct(engine, 90)), fmt(Math.min(...engine)), fmt(Math.max(...engine))],
  ['server: of which outside the engine (queue, SQLite, WebSocket, GET)', fmt(median(outside)), fmt(pct(outside, 90)), fmt(Math.min(...outside)), fmt(Math.max(...outside))],
]);
table('server against the reference', ['measure', 'value', 'goal', 'met'], [
  ['median ratio (audio received / raw), per block', fmt(median(ratio), 3) + '×', '≤ 1.1× + 5 ms', ''],
  ['median overhead (audio received − raw)', fmt(median(overhead)) + ' ms', '', ''],
  ['medians: cached status vs raw', `${fmt(median(toCached))} vs ${fmt(median(raw.ms))} ms`, `≤ ${fmt(1.1 * median(raw.ms) + 5)} ms`, goal(median(toCached), median(raw.ms)) ? 'yes' : 'no'],
  ['medians: audio received vs raw', `${fmt(median(toBytes))} vs ${fmt(median(raw.ms))} ms`, `≤ ${fmt(1.1 * median(raw.ms) + 5)} ms`, goal(median(toBytes), median(raw.ms)) ? 'yes' : 'no'],
]);
