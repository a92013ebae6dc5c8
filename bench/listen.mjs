// Benchmark — how the player sounds, in real Chromium (docs/BENCHMARKS.md, issue 14).
//
//   node bench/listen.mjs [seconds=180] [documents=10]
//
// 1. Play -> first sound on `documents` new documents (a fresh page each: no history), next to
//    the raw engine + encoder time of each document's first block (build/bench/raw_ref, the
//    code a worker runs), rendered right before that document in the same run.
// 2. The gap at every seam between blocks over `seconds` of play at 1x and at 3x, on a new
//    (uncached) document, with the page's player (preloaded twin <audio>, swapped on `ended`);
//    then the same blocks, already cached, scheduled with Web Audio (AudioBufferSourceNode
//    back to back) over min(seconds, 60) at each speed — the alternative design.
//    Both are measured the same way: every sample the page plays goes through an AudioWorklet
//    that records silent runs (|x| < 1e-4) on the audio clock; a seam's gap is the silent run
//    around it minus the silence that is meant to be there — the two blocks' own (trailing
//    pad of the one, leading pad of the next, measured in the decoded files with the same
//    threshold) and the structural pause the page adds after the block (pause_ms) — all
//    divided by the speed. Underruns: Playing -> Buffering transitions of the engine.
// 2 workers (espeak-ng, en-us).
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { build, startServer, rawServer, paragraphs, median, pct, fmt, table, machine, now, tempDir, ROOT } from './lib.mjs';
import { launchBrowser } from '../tests/e2e/harness.mjs';

const SECONDS = Number(process.argv[2] || 180);
const DOCS = Number(process.argv[3] || 10);
const WEBAUDIO_SECONDS = Math.min(SECONDS, 60);

// --- in the page ------------------------------------------------------------------------

const WORKLET = `
class SilenceRecorder extends AudioWorkletProcessor {
  constructor() { super(); this.loud = false; this.from = 0; }
  process(inputs) {
    const chans = inputs[0] || [];
    const len = chans[0] ? chans[0].length : 128;
    for (let i = 0; i < len; i++) {
      let peak = 0;
      for (const c of chans) { const v = Math.abs(c[i]); if (v > peak) peak = v; }
      const loud = peak >= 1e-4;
      if (loud === this.loud) continue;
      const at = currentFrame + i;
      if (loud) this.port.postMessage([this.from / sampleRate, at / sampleRate]);
      else this.from = at;
      this.loud = loud;
    }
    return true;
  }
}
registerProcessor('silence-recorder', SilenceRecorder);`;

// Runs before the page's scripts: every <audio> the page creates (the off-DOM twin) is
// remembered so that it can be routed through the recorder too.
function initScript() {
  window.__listen = { created: [], connect: null };
  const orig = Document.prototype.createElement;
  Document.prototype.createElement = function createElement(tag, ...rest) {
    const el = orig.call(this, tag, ...rest);
    if (String(tag).toLowerCase() === 'audio') {
      if (window.__listen.connect) window.__listen.connect(el);
      else window.__listen.created.push(el);
    }
    return el;
  };
}

// Sets up the recorder graph and the seam/underrun/first-sound probes.
async function setupRecorder(workletSource) {
  const L = window.__listen;
  const ctx = new AudioContext({ latencyHint: 'interactive' });
  await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([workletSource], { type: 'text/javascript' })));
  const rec = new AudioWorkletNode(ctx, 'silence-recorder', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
  rec.connect(ctx.destination);
  L.ctx = ctx;
  L.rec = rec;
  L.silences = [];
  rec.port.onmessage = (e) => L.silences.push(e.data);
  const sources = new Set();
  L.connect = (el) => {
    if (sources.has(el)) return;
    sources.add(el);
    ctx.createMediaElementSource(el).connect(rec);
  };
  L.connect(document.querySelector('audio'));
  for (const el of L.created) L.connect(el);
  await ctx.resume();
  // urls of blocks as the server reports them (for the pads measured in the decoded files)
  L.urls = {};
  L.phase = {};           // first-sound phases (performance.now())
  const mark = (k) => { if (L.phase[k] === undefined) L.phase[k] = performance.now(); };
  window.recite.ws.on('message', (m) => {
    if (m.type === 'status' && m.block_idx === 0) mark(m.status);
    if (m.type === 'status' && m.status === 'cached' && m.audio_url) L.urls[m.block_idx] = m.audio_url;
  });
  const ws = window.recite.ws;
  const send = ws.send.bind(ws);
  ws.send = (m) => { if (m.type === 'synthesize') mark('sent'); return send(m); };
  const a = window.recite.audio;
  const fetchAudio = a.fetch.bind(a);
  a.fetch = (u) => { mark('fetch'); return fetchAudio(u).then((x) => { mark('fetched'); return x; }); };
  const play = a.play.bind(a);
  let preloaded = false;
  let starting = false;
  a.play = (url, opts) => { mark('play'); preloaded = a.preloaded(url); starting = true; return play(url, opts); };
  // A seam is where the next block starts: the first 'playing' after a play() (the page's
  // element is the one in the DOM, so the capture listener sees it; a 'playing' after a
  // stall inside a block is not a seam); the next block was preloaded or not.
  let started = 0;
  // The block's start on the audio clock: now minus how far it has played (the event can be
  // dispatched late on a loaded machine; the element's own position is not).
  document.addEventListener('playing', (e) => {
    mark('playing');
    if (!starting) return;
    starting = false;
    const t = ctx.currentTime - e.target.currentTime / e.target.playbackRate;
    if (started++ && idx > 0) L.seams.push({ t, from: idx - 1, preloaded });
  }, true);
  L.seams = [];           // {t (audio clock), from, to, preloaded}
  L.underruns = 0;
  L.firstSound = null;
  L.click = null;
  let prev = null;
  let idx = 0;
  window.recite.engine.subscribe((s) => {
    if (prev === 'playing' && s.playState === 'buffering') L.underruns++;
    prev = s.playState;
    idx = s.cursor;
  });
  document.querySelector('button.play').addEventListener('click', () => { if (L.click === null) L.click = performance.now(); }, true);
  const poll = () => {
    const el = window.recite.audio.element;
    if (L.firstSound === null && el.currentTime > 0 && !el.paused) L.firstSound = performance.now();
    if (L.firstSound === null) requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}

// Leading and trailing silence (s) of each block's decoded audio: same threshold, and the
// same merging of silent runs split by a blip of codec noise (BLIP_S) as on the audio clock.
async function padsOf({ urls, blip }) {
  const ctx = window.__listen.ctx;
  const out = {};
  for (const [idx, url] of Object.entries(urls)) {
    const buf = await ctx.decodeAudioData(await (await fetch(url)).arrayBuffer());
    const d = buf.getChannelData(0);
    const gap = Math.round(blip * buf.sampleRate);
    let a = 0;
    for (;;) {
      while (a < d.length && Math.abs(d[a]) < 1e-4) a++;
      let k = a; while (k < d.length && k - a < gap && Math.abs(d[k]) >= 1e-4) k++;
      if (k - a >= gap || k >= d.length || k === a) break;
      a = k;                       // a blip: the silence goes on
    }
    let b = d.length - 1;
    for (;;) {
      while (b > a && Math.abs(d[b]) < 1e-4) b--;
      let k = b; while (k > a && b - k < gap && Math.abs(d[k]) >= 1e-4) k--;
      if (b - k >= gap || k <= a || k === b) break;
      b = k;
    }
    out[idx] = { lead: a / buf.sampleRate, trail: (d.length - 1 - b) / buf.sampleRate, dur: buf.duration };
  }
  return out;
}

// The alternative: the same blocks decoded and scheduled back to back with Web Audio.
async function webAudioRun({ urls, speed, seconds }) {
  const L = window.__listen;
  const ctx = L.ctx;
  L.silences = [];
  const bufs = [];
  for (const url of urls) bufs.push(await ctx.decodeAudioData(await (await fetch(url)).arrayBuffer()));
  let t = ctx.currentTime + 0.3;
  const end = t + seconds;
  const seams = [];
  let i = 0;
  for (; i < bufs.length && t < end; i++) {
    const src = ctx.createBufferSource();
    src.buffer = bufs[i];
    src.playbackRate.value = speed;     // changes the pitch: AudioBufferSourceNode has no time-stretch
    src.connect(L.rec);
    src.start(t);
    if (i) seams.push({ t, from: i - 1 });   // exact: scheduled on the audio clock
    t += bufs[i].duration / speed;
  }
  await new Promise((r) => setTimeout(r, (t - ctx.currentTime) * 1000 + 300));
  return { seams, blocks: i };
}

// --- in node ------------------------------------------------------------------------------

// Silent runs split only by a blip of codec noise (a few samples over the threshold, far
// shorter than any speech) are one run.
const BLIP_S = 0.003;
function mergeRuns(runs) {
  const out = [];
  for (const r of runs) {
    const last = out[out.length - 1];
    if (last && r[0] - last[1] < BLIP_S) last[1] = r[1];
    else out.push([r[0], r[1]]);
  }
  return out;
}

// Gap at each seam: the silent run around the seam instant, minus the blocks' own silence.
// pauses[idx]: the structural pause the page adds after block idx (pause_ms, 0 for Web Audio).
function seamGaps(runs, seams, pads, speed, pauses = {}) {
  const silences = mergeRuns(runs);
  const gaps = [];
  for (const s of seams) {
    const a = pads[s.from], b = pads[s.from + 1];
    if (!a || !b) continue;
    // the longest run that ends within 100 ms (output latency) of where the next block's
    // speech starts (its start + its lead pad): speech itself has short silent runs too
    const speech = s.t + b.lead / speed;
    let best = null;
    for (const [from, to] of silences) {
      if (Math.abs(to - speech) <= 0.1 && (!best || to - from > best[1] - best[0])) best = [from, to];
    }
    if (!best) { gaps.push({ ms: NaN, seam: s.from }); continue; }
    const expected = (a.trail + b.lead + (pauses[s.from] || 0) / 1000) / speed;
    gaps.push({ ms: (best[1] - best[0] - expected) * 1000, seam: s.from, preloaded: s.preloaded });
  }
  return gaps;
}

function gapRow(name, g) {
  const v = g.map((x) => x.ms).filter(Number.isFinite);
  return [name, String(v.length), fmt(median(v)), fmt(pct(v, 90)), fmt(Math.max(...v)), fmt(Math.min(...v))];
}

build();
// the page as it is now: edits to web/ during a long run cannot mix two versions
const web = join(tempDir('recite-listen-web-'), 'web');
cpSync(join(ROOT, 'web'), web, { recursive: true });
const s = await startServer({ workers: 2, args: ['--web', web] });
const browser = await launchBrowser();
const ref = rawServer();
await ref.render('Warming up the voice before measuring.');

async function openPage(docId) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 850 } });
  await context.addInitScript(initScript);
  const page = await context.newPage();
  await page.goto(`${s.url}/#/doc/${docId}`);
  await page.locator('button.play').waitFor();
  await page.waitForFunction(() => window.recite.ws.state === 'open');
  await page.evaluate(setupRecorder, WORKLET);
  return page;
}

// warm the server's voice once (the first render loads espeak-ng's data)
{
  const warm = await s.createDoc('Warming up the server voice.', 'text');
  const page = await openPage(warm.id);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.waitForFunction(() => window.__listen.firstSound !== null, null, { timeout: 60000 });
  await page.context().close();
}

// 1. first sound
const first = [], raw = [], phases = [];
for (let d = 0; d < DOCS; d++) {
  const doc = await s.createDoc(paragraphs(20), 'text');
  const text0 = (await s.getDoc(doc.id)).blocks[0].text;
  raw.push((await ref.render(text0)).ms);
  const page = await openPage(doc.id);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  const m = await page.waitForFunction(() => window.__listen.firstSound !== null && window.__listen, null, { timeout: 60000 });
  const L = await m.jsonValue();
  first.push(L.firstSound - L.click);
  phases.push(Object.fromEntries(Object.entries(L.phase).map(([k, v]) => [k, Math.round(v - L.click)])));
  await page.context().close();
}
ref.stop();

// 2. seams: the page's player, then Web Audio on the same (now cached) blocks
async function playerRun(speed) {
  const doc = await s.createDoc(paragraphs(Math.ceil((SECONDS * speed) / 2.5) + 10), 'text');
  const page = await openPage(doc.id);
  await page.evaluate((x) => window.recite.engine.setSpeed(x), speed);
  const t0 = now();
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.waitForTimeout(SECONDS * 1000);
  const L = await page.evaluate(() => {
    window.recite.engine.pause();
    const l = window.__listen;
    return { silences: l.silences, seams: l.seams, underruns: l.underruns, urls: l.urls };
  });
  const pads = await page.evaluate(padsOf, { urls: L.urls, blip: BLIP_S });
  const pauses = Object.fromEntries((await s.getDoc(doc.id)).blocks.map((b) => [b.idx, Number(b.pause_ms) || 0]));
  const gaps = seamGaps(L.silences, L.seams, pads, speed, pauses);
  // Web Audio over the same blocks
  const urls = Object.keys(L.urls).map(Number).sort((a, b) => a - b).map((i) => L.urls[i]);
  const w = await page.evaluate(webAudioRun, { urls, speed, seconds: WEBAUDIO_SECONDS });
  const wl = await page.evaluate(() => window.__listen.silences);
  const wgaps = seamGaps(wl, w.seams, pads, speed);
  await page.context().close();
  return { speed, gaps, wgaps, underruns: L.underruns, seconds: (now() - t0) / 1000,
    preloaded: L.seams.filter((x) => x.preloaded).length, seams: L.seams.length };
}
const runs = [await playerRun(1), await playerRun(3)];
await browser.close();
await s.stop();

console.log(`# Listening — play -> first sound, and seams (${machine()})`);
console.log(`command: node bench/listen.mjs ${SECONDS} ${DOCS}; 2 workers, espeak-ng en-us`);
const diff = first.map((f, i) => f - raw[i]);
table(`play -> first sound, ${DOCS} new documents (ms)`, ['measure', 'median', 'p90', 'min', 'max'], [
  ['play -> first sound (page)', fmt(median(first)), fmt(pct(first, 90)), fmt(Math.min(...first)), fmt(Math.max(...first))],
  ['raw engine + encoder, first block', fmt(median(raw)), fmt(pct(raw, 90)), fmt(Math.min(...raw)), fmt(Math.max(...raw))],
  ['difference (page - raw), per document', fmt(median(diff)), fmt(pct(diff, 90)), fmt(Math.min(...diff)), fmt(Math.max(...diff))],
]);
console.log(`\nsamples, first sound: ${first.map((x) => fmt(x, 0)).join(', ')}`);
console.log(`samples, raw first block: ${raw.map((x) => fmt(x, 0)).join(', ')}`);
console.log('phases after the click (ms): ' + phases.map((p) => JSON.stringify(p)).join('\n  '));
table('gap at each seam beyond the intended silence: pads + pause_ms, at the speed (ms)', ['player, speed', 'seams', 'median', 'p90', 'max', 'min'],
  runs.flatMap((r) => [gapRow(`twin <audio>, ${r.speed}x`, r.gaps), gapRow(`Web Audio, ${r.speed}x (pitch shifts)`, r.wgaps)]));
for (const r of runs) {
  console.log(`\n${r.speed}x: ${fmt(r.seconds, 0)} s of play, ${r.seams} seams, next block preloaded at ${r.preloaded} of them, underruns: ${r.underruns}`);
  console.log(`samples, twin <audio> ${r.speed}x: ${r.gaps.map((g) => fmt(g.ms, 0)).join(', ')}`);
  console.log(`samples, Web Audio ${r.speed}x: ${r.wgaps.map((g) => fmt(g.ms, 0)).join(', ')}`);
}
