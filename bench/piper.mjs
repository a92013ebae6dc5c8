// Benchmark 7 — the piper and kokoro models (docs/BENCHMARKS.md, issue 10).
//
//   node bench/piper.mjs [blocks=20] [work=240] [piper|kokoro]
//   PIPER_VOICES=DIR PIPER_VOICE=NAME node bench/piper.mjs [blocks=20]   (a real voice)
//   PIPER_WORKERS=1 node bench/piper.mjs ...   (the server's --workers; default one per core)
//   PIPER_VOICES=DIR PIPER_VOICE=af_heart node bench/piper.mjs 20 0 kokoro   (real Kokoro:
//     DIR holds kokoro-v1.0.onnx and voices-v1.0.bin)
//
// kokoro: the same measurements with a Kokoro-interface stand-in
// (tests/data/kokoro/make_kokoro.mjs with `work` layers) and build/bench/kokoro_ref as the
// raw reference (Kokoro's tokens, one Run per block).
//
// No real Piper voice can be downloaded here, so the voice is a generated stand-in
// (tests/data/piper/make_model.mjs with `work` 256x256 MatMul+Tanh layers: 240 layers = 63 MB
// of weights, the size of a "medium" Piper voice) with Piper's exact interface and Piper's
// standard phoneme map. Measured in the same run on the same texts, block by block in
// rotating order (server, raw, worker; then raw, worker, server; ...), so a shared machine's
// load falls on all three alike:
//   - raw: build/bench/piper_ref — Piper's phonemizer and the model's ONNX Runtime Run calls
//     on one session, nothing else (the raw ORT call), with the SAME thread budget as a
//     server worker: the intra-op pool of cores − workers + 1 threads (printed);
//   - worker: build/bench/raw_ref --stages --model piper — what a worker does for a block
//     in-process (engine_render: the piper engine, pads, levelling; then Opus encoding and
//     the level check on the decoded Opus), no server, each stage timed apart, then the
//     encoding again as a worker runs it (engine_encode: the level's decoding alongside);
//     its total is synthesize + finish + engine_encode;
//   - server: one uncached block at a time, `synthesize` over the WebSocket → `cached`
//     (the moment its audio can be fetched: first audio), --workers PIPER_WORKERS;
// as real-time factors (time / audio duration) and the server's overhead over raw. Each
// block is synthesized alone, so synthesize → cached is the first-audio time of a listener
// starting at that block; first audio server / raw is quoted per block (median) and for
// the first block. The stage table also gives each stage per second of audio: those costs
// do not depend on the voice, so they give the overhead for a voice of any speed.
// Then resident memory of the server after synthesizing on one voice with --workers 1 and
// with --workers 4 (blocks sent all at once so the 4 workers run the shared session
// concurrently): the weights are in memory once, so RSS must not scale with workers.
import { cpus } from 'node:os';
import { writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, rawServer, startServer, Client, synth, waitFinal, paragraphs, median, pct, fmt, table, machine, now, tempDir, rssMiB, ROOT } from './lib.mjs';
import { tinyPiperModel } from '../tests/data/piper/make_model.mjs';
import { tinyKokoroModel, tinyVoicesFile } from '../tests/data/kokoro/make_kokoro.mjs';

const N = Number(process.argv[2] || 20);
const WORK = Number(process.argv[3] || 240);
const MODEL = process.argv[4] === 'kokoro' ? 'kokoro' : 'piper';
const NAME = MODEL === 'kokoro' ? 'Kokoro' : 'Piper';
const REAL = process.env.PIPER_VOICES && process.env.PIPER_VOICE;
const CORES = cpus().length;
// The server's --workers (default: the server's own default, one per core) and the intra-op
// pool each worker gets then (piper_ort_pool_threads: cores − workers + 1); the raw call and
// the in-process worker get the same pool.
const WORKERS = Number(process.env.PIPER_WORKERS || CORES);
const POOL = Math.max(1, CORES - WORKERS + 1);
const VOICE = REAL ? process.env.PIPER_VOICE : MODEL === 'kokoro' ? 'af_bench' : 'en_US-bench-medium';
build();
const voices = REAL ? process.env.PIPER_VOICES : tempDir(`recite-${MODEL}-voices-`);
if (!REAL && MODEL === 'kokoro') {
  writeFileSync(join(voices, 'kokoro-v1.0.onnx'), tinyKokoroModel({ work: WORK }));
  writeFileSync(join(voices, 'voices-v1.0.bin'), tinyVoicesFile({ voices: { [VOICE]: 3 } }));
} else if (!REAL) {
  writeFileSync(join(voices, `${VOICE}.onnx`), tinyPiperModel({ work: WORK }));
  copyFileSync(join(ROOT, 'tests/data/piper/tiny.onnx.json'), join(voices, `${VOICE}.onnx.json`));
}

// refs (blocks one at a time only): the raw and in-process references as long-lived
// processes, run on each block right after the server (in rotating order), so all three see
// the same load on a shared machine.
async function serverRun(workers, texts, concurrent, refs) {
  const s = await startServer({ workers, args: ['--voices', voices] });
  const warm = await s.createDoc('Warming up the voice before measuring.');
  const c = await Client.connect(s.wsUrl);
  c.keep = false;
  c.send({ ...synth(warm.id, [0]), model: MODEL, voice: VOICE });
  await c.next((m) => m.type === 'status' && m.status === 'cached', 120_000, 'the warm-up block');
  const doc = await s.createDoc(texts.join('\n\n'), 'text');
  const blocks = (await s.getDoc(doc.id)).blocks.map((b) => b.text);
  const n = blocks.length;
  const out = { ms: [], audio_ms: [], raw: [], worker: [] };
  if (concurrent) {
    c.keep = true;
    for (let i = 0; i < n; i += 32)
      c.send({ ...synth(doc.id, Array.from({ length: Math.min(32, n - i) }, (_, k) => i + k)), model: MODEL, voice: VOICE });
    await waitFinal(c, doc.id, Array.from({ length: n }, (_, i) => i));
  } else {
    for (let i = 0; i < n; i++) {
      const server = async () => {
        const t0 = now();
        const cached = c.next((m) => m.type === 'status' && m.block_idx === i && m.status === 'cached', 120_000, `block ${i}`);
        c.send({ ...synth(doc.id, [i]), model: MODEL, voice: VOICE });
        const st = await cached;
        out.ms.push(st.t - t0);
        out.audio_ms.push(st.duration_ms);
      };
      const steps = [server, async () => out.raw.push(await refs.raw.render(blocks[i])),
        async () => out.worker.push(await refs.worker.render(blocks[i]))];
      for (let k = 0; k < 3; k++) await steps[(i + k) % 3]();
    }
  }
  out.rss = rssMiB(s.pid);
  c.close();
  await s.stop();
  return out;
}

const refs = {
  raw: rawServer(join(ROOT, `build/bench/${MODEL}_ref`), ['--threads', String(POOL), '--voices', voices, '--voice', VOICE]),
  // --threads: raw_ref's workers count, from which piper_ort_pool_threads sizes the pool as for the server
  worker: rawServer(join(ROOT, 'build/bench/raw_ref'), ['--threads', String(WORKERS), '--stages', '--model', MODEL, '--voice', VOICE, '--voices', voices]),
};
const srv = await serverRun(WORKERS, paragraphs(N).split('\n\n'), false, refs);
refs.raw.stop();
refs.worker.stop();
const raw = { threads: srv.raw[0].threads, phon_ms: srv.raw.map((r) => r.phon_ms), ort_ms: srv.raw.map((r) => r.ort_ms), audio_ms: srv.raw.map((r) => r.audio_ms) };
const worker = { ms: srv.worker.map((r) => r.ms), audio_ms: srv.worker.map((r) => r.audio_ms), stages: srv.worker.map((r) => r.stages) };
const rss4 = await serverRun(4, paragraphs(N).split('\n\n'), true);

const rtfRaw = raw.ort_ms.map((v, i) => v / raw.audio_ms[i]);
const rtfSrv = srv.ms.map((v, i) => v / srv.audio_ms[i]);
const over = srv.ms.map((v, i) => v - raw.ort_ms[i] - raw.phon_ms[i]);
const post = worker.ms.map((v, i) => v - raw.ort_ms[i] - raw.phon_ms[i]);
const serverOnly = srv.ms.map((v, i) => v - worker.ms[i]);
console.log(`# ${NAME} — ${srv.ms.length} uncached blocks, ${REAL ? `voice ${VOICE}` : `stand-in voice of ${WORK} layers (${fmt(WORK * 0.25, 0)} MiB of weights)`} (${machine()})`);
console.log(`thread budget: server --workers ${WORKERS} on ${CORES} cores → each Run on an intra-op pool of ${POOL}; ` +
  `the raw Run (${raw.threads}) and the in-process worker: the same`);
table('per block', ['measure', 'median', 'p90'], [
  ['raw: phonemize (espeak-ng), ms', fmt(median(raw.phon_ms), 2), fmt(pct(raw.phon_ms, 90), 2)],
  ['raw: ONNX Runtime Run, ms', fmt(median(raw.ort_ms)), fmt(pct(raw.ort_ms, 90))],
  ['server: synthesize → cached (first audio), ms', fmt(median(srv.ms)), fmt(pct(srv.ms, 90))],
  ['worker in-process: engine_render + Opus, ms', fmt(median(worker.ms)), fmt(pct(worker.ms, 90))],
  ['  of which after the model (pads, levelling, Opus), ms', fmt(median(post)), fmt(pct(post, 90))],
  ['server − raw (all of the above + queue, SQLite, WebSocket), ms', fmt(median(over)), fmt(pct(over, 90))],
  ['server − worker in-process (queue, SQLite, WebSocket), ms', fmt(median(serverOnly)), fmt(pct(serverOnly, 90))],
  ['real-time factor, raw Run', fmt(median(rtfRaw), 3), fmt(pct(rtfRaw, 90), 3)],
  ['real-time factor, server', fmt(median(rtfSrv), 3), fmt(pct(rtfSrv, 90), 3)],
]);
const stage = (k) => worker.stages.map((st) => st[k]);
const perSec = (a) => a.map((v, i) => v / worker.audio_ms[i] * 1000);
const stageRows = [
  [`synthesize: phonemize + Run + ${NAME}'s 16-bit conversion`, stage(0)],
  ['engine_finish: exact pads + loudness levelling', stage(1)],
  ['audio_encode_opus (libopusenc: resample to 48 kHz, Opus)', stage(2)],
  ['audio_opus_level (decode the Opus, BS.1770, header gain)', stage(3)],
  ['engine_encode as a worker runs it (the level decoding alongside the encoding)', stage(4)],
  ['server only: queue, SQLite, WebSocket (server − worker)', serverOnly],
];
table('where a block\'s time goes (worker in-process, stages timed apart)', ['stage', 'median ms', 'p90 ms', 'ms per audio second'],
  stageRows.map(([name, a]) => [name, fmt(median(a), 1), fmt(pct(a, 90), 1), fmt(median(perSec(a)), 2)]));
console.log(`\nfirst audio (synthesize → cached, block alone) server / raw: median ${fmt(median(srv.ms.map((v, i) => v / (raw.ort_ms[i] + raw.phon_ms[i]))), 2)}×,` +
  ` first block ${fmt(srv.ms[0] / (raw.ort_ms[0] + raw.phon_ms[0]), 2)}× (${fmt(srv.ms[0])} vs ${fmt(raw.ort_ms[0] + raw.phon_ms[0])} ms)`);
console.log(`\nserver / raw time per block: median ${fmt(median(srv.ms.map((v, i) => v / (raw.ort_ms[i] + raw.phon_ms[i]))), 2)}×;` +
  ` server / worker in-process: median ${fmt(median(srv.ms.map((v, i) => v / worker.ms[i])), 2)}×`);
table('resident memory after synthesizing on one voice', ['workers', 'RSS MiB'], [
  [`${WORKERS} (blocks one at a time)`, fmt(srv.rss)], ['4 (all blocks at once)', fmt(rss4.rss)],
]);
console.log(`\nRSS 4 workers / ${WORKERS}: ${fmt(rss4.rss / srv.rss, 2)}×`);
