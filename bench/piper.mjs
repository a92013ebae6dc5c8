// Benchmark 7 — the piper model (docs/BENCHMARKS.md, issue 10).
//
//   node bench/piper.mjs [blocks=20] [work=240]
//   PIPER_VOICES=DIR PIPER_VOICE=NAME node bench/piper.mjs [blocks=20]   (a real voice)
//
// No real Piper voice can be downloaded here, so the voice is a generated stand-in
// (tests/data/piper/make_model.mjs with `work` 256x256 MatMul+Tanh layers: 240 layers = 63 MB
// of weights, the size of a "medium" Piper voice) with Piper's exact interface and Piper's
// standard phoneme map. Measured in the same run on the same texts:
//   - raw: build/bench/piper_ref — Piper's phonemizer and the model's ONNX Runtime Run calls
//     on one session, nothing else (the raw ORT call);
//   - worker: build/bench/raw_ref --model piper — what a worker does for a block in-process
//     (engine_render: the piper engine, pads, levelling; then Opus encoding), no server;
//   - server: one uncached block at a time, `synthesize` over the WebSocket → `cached`
//     (the moment its audio can be fetched: first audio), 1 worker;
// as real-time factors (time / audio duration) and the server's overhead over raw.
// Then resident memory of the server after synthesizing on one voice with --workers 1 and
// with --workers 4 (blocks sent all at once so the 4 workers run the shared session
// concurrently): the weights are in memory once, so RSS must not scale with workers.
import { execFileSync } from 'node:child_process';
import { writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, startServer, Client, synth, waitFinal, paragraphs, median, pct, fmt, table, machine, now, tempDir, rssMiB, ROOT } from './lib.mjs';
import { tinyPiperModel } from '../tests/data/piper/make_model.mjs';

const N = Number(process.argv[2] || 20);
const WORK = Number(process.argv[3] || 240);
const REAL = process.env.PIPER_VOICES && process.env.PIPER_VOICE;
const VOICE = REAL ? process.env.PIPER_VOICE : 'en_US-bench-medium';
build();
const voices = REAL ? process.env.PIPER_VOICES : tempDir('recite-piper-voices-');
if (!REAL) {
  writeFileSync(join(voices, `${VOICE}.onnx`), tinyPiperModel({ work: WORK }));
  copyFileSync(join(ROOT, 'tests/data/piper/tiny.onnx.json'), join(voices, `${VOICE}.onnx.json`));
}

async function serverRun(workers, texts, concurrent) {
  const s = await startServer({ workers, args: ['--voices', voices] });
  const warm = await s.createDoc('Warming up the voice before measuring.');
  const c = await Client.connect(s.wsUrl);
  c.keep = false;
  c.send({ ...synth(warm.id, [0]), model: 'piper', voice: VOICE });
  await c.next((m) => m.type === 'status' && m.status === 'cached', 120_000, 'the warm-up block');
  const doc = await s.createDoc(texts.join('\n\n'), 'text');
  const n = (await s.getDoc(doc.id)).blocks.length;
  const out = { ms: [], audio_ms: [] };
  if (concurrent) {
    c.keep = true;
    for (let i = 0; i < n; i += 32)
      c.send({ ...synth(doc.id, Array.from({ length: Math.min(32, n - i) }, (_, k) => i + k)), model: 'piper', voice: VOICE });
    await waitFinal(c, doc.id, Array.from({ length: n }, (_, i) => i));
  } else {
    for (let i = 0; i < n; i++) {
      const t0 = now();
      const cached = c.next((m) => m.type === 'status' && m.block_idx === i && m.status === 'cached', 120_000, `block ${i}`);
      c.send({ ...synth(doc.id, [i]), model: 'piper', voice: VOICE });
      const st = await cached;
      out.ms.push(st.t - t0);
      out.audio_ms.push(st.duration_ms);
    }
  }
  out.rss = rssMiB(s.pid);
  out.texts = (await s.getDoc(doc.id)).blocks.map((b) => b.text);
  c.close();
  await s.stop();
  return out;
}

const texts = paragraphs(N).split('\n\n');
const srv = await serverRun(1, texts, false);
const dir = tempDir('recite-piper-ref-');
writeFileSync(join(dir, 'texts'), srv.texts.join('\0'));
const raw = JSON.parse(execFileSync(join(ROOT, 'build/bench/piper_ref'), ['--voices', voices, '--voice', VOICE, join(dir, 'texts')]).toString());
const worker = JSON.parse(execFileSync(join(ROOT, 'build/bench/raw_ref'), ['--model', 'piper', '--voice', VOICE, '--voices', voices, join(dir, 'texts')]).toString());
const rss4 = await serverRun(4, paragraphs(N).split('\n\n'), true);

const rtfRaw = raw.ort_ms.map((v, i) => v / raw.audio_ms[i]);
const rtfSrv = srv.ms.map((v, i) => v / srv.audio_ms[i]);
const over = srv.ms.map((v, i) => v - raw.ort_ms[i] - raw.phon_ms[i]);
const post = worker.ms.map((v, i) => v - raw.ort_ms[i] - raw.phon_ms[i]);
const serverOnly = srv.ms.map((v, i) => v - worker.ms[i]);
console.log(`# Piper — ${srv.ms.length} uncached blocks, ${REAL ? `voice ${VOICE}` : `stand-in voice of ${WORK} layers (${fmt(WORK * 0.25, 0)} MiB of weights)`} (${machine()})`);
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
console.log(`\nserver / raw time per block: median ${fmt(median(srv.ms.map((v, i) => v / (raw.ort_ms[i] + raw.phon_ms[i]))), 2)}×;` +
  ` server / worker in-process: median ${fmt(median(srv.ms.map((v, i) => v / worker.ms[i])), 2)}×`);
table('resident memory after synthesizing on one voice', ['workers', 'RSS MiB'], [
  ['1 (blocks one at a time)', fmt(srv.rss)], ['4 (all blocks at once)', fmt(rss4.rss)],
]);
console.log(`\nRSS 4 workers / 1 worker: ${fmt(rss4.rss / srv.rss, 2)}×`);
