// Benchmark — browser synthesis (docs/BENCHMARKS.md), in real headless Chromium.
//
//   node bench/browser_tts.mjs [blocks=24] [repeat=3]
//
// 1. Throughput on the same texts: the page's WebAssembly espeak-ng in its Web Worker
//    (window.recite.synthesizer: synthesize + pads + encode, one block at a time, as the
//    engine runs it) against the server's espeak-ng with one worker thread (synthesize, trim,
//    level, encode Ogg Opus, store), both from request to the last block ready. Blocks per
//    second and the ratio WASM / server, median of `repeat` runs; each run gets a fresh tag
//    so nothing is cached, and both sides see the same texts in the same run.
// 2. First sound after Play in browser mode (a new document, a new page): click -> the
//    <audio> playing with currentTime > 0, for a cold page (a new browser context: the 24 MB
//    voice data is downloaded and the WebAssembly compiled) and a warm one (the same context
//    again: the data comes from the HTTP cache), against server mode in the same run.
import { build, startServer, Client, synth, waitFinal, SENTENCES, median, fmt, table, machine, now, cleanup } from './lib.mjs';
import { chromium } from 'playwright-core';

const N = Number(process.argv[2] || 24);
const R = Number(process.argv[3] || 3);
build();
const s = await startServer({ workers: 1 });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'] });

const texts = (tag) => Array.from({ length: N }, (_, i) => `${SENTENCES[i % SENTENCES.length]} (${tag} ${i})`);

async function openPage(context, url) {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.recite && window.recite.synthesizer);
  return page;
}

// --- 1. throughput ----------------------------------------------------------------------
const ctx = await browser.newContext();
const page = await openPage(ctx, `${s.url}/`);
const init0 = now();
const warm = await page.evaluate(() => window.recite.synthesizer.synthesize({ text: 'Warming up.', voice: 'en-us' }).then((r) => r.type));
const initMs = now() - init0;
const wasm = [], server = [], synthShare = [];
let encoding = warm;
for (let r = 0; r < R; r++) {
  const list = texts(`run ${r} ${Date.now()}`);
  const w = await page.evaluate(async (list) => {
    const t0 = performance.now();
    let synth = 0, enc = 0, type = '';
    for (const text of list) {
      const x = await window.recite.synthesizer.synthesize({ text, voice: 'en-us' });
      synth += x.synthMs; enc += x.encodeMs; type = x.type;
      window.recite.synthesizer.release(x.url);
    }
    return { ms: performance.now() - t0, synth, enc, type };
  }, list);
  wasm.push(list.length / (w.ms / 1000));
  synthShare.push(w.synth / w.ms);
  encoding = w.type;

  const doc = await s.createDoc(list.join('\n\n'));
  const c = await Client.connect(s.wsUrl);
  const t0 = now();
  c.send(synth(doc.id, Array.from({ length: N }, (_, i) => i)));
  await waitFinal(c, doc.id, Array.from({ length: N }, (_, i) => i));
  server.push(N / ((now() - t0) / 1000));
  c.close();
}
await ctx.close();

// --- 2. first sound after Play ---------------------------------------------------------
async function firstSound(context, model) {
  const doc = await s.createDoc(texts(`first ${model} ${Date.now()}`).slice(0, 12).join('\n\n'));
  const p = await context.newPage();
  await p.addInitScript((m) => localStorage.setItem('recite.voice', JSON.stringify({ model: m, voice: 'en-us' })), model);
  await p.goto(`${s.url}/#/doc/${doc.id}`);
  await p.locator('button.play').waitFor();
  await p.waitForFunction(() => window.recite.ws.state === 'open');
  await p.evaluate(() => {
    const audio = document.querySelector('audio');
    window.__m = { click: null, first: null };
    document.querySelector('button.play').addEventListener('click', () => { window.__m.click = performance.now(); }, true);
    const poll = () => {
      const a = document.querySelector('audio');
      if (a.currentTime > 0 && !a.paused) window.__m.first = performance.now();
      else requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
    void audio;
  });
  await p.getByRole('button', { name: 'Play', exact: true }).click();
  await p.waitForFunction(() => window.__m.first !== null, null, { timeout: 60_000 });
  const m = await p.evaluate(() => window.__m);
  await p.close();
  return m.first - m.click;
}
const cold = [], warmFs = [], serverFs = [];
for (let r = 0; r < R; r++) {
  const c = await browser.newContext();
  cold.push(await firstSound(c, 'browser'));
  warmFs.push(await firstSound(c, 'browser'));
  serverFs.push(await firstSound(c, 'espeak'));
  await c.close();
}
await browser.close();
await s.stop();
cleanup();

console.log(`\n${machine()}; ${N} blocks of ~80 characters, ${R} runs, encoding in the page: ${encoding}`);
table('Throughput, same texts (blocks/s, median)', ['engine', 'blocks/s', 'all runs', 'vs server'], [
  ['server espeak-ng, 1 worker (synth + Opus + store)', fmt(median(server)), server.map((x) => fmt(x)).join(', '), '1.00'],
  ['page WASM espeak-ng, 1 Web Worker (synth + pads + encode)', fmt(median(wasm)), wasm.map((x) => fmt(x)).join(', '),
    fmt(median(wasm) / median(server), 2)],
]);
console.log(`\nWASM share of the page's time spent synthesizing (the rest encoding): ${fmt(100 * median(synthShare), 0)} %;` +
  ` first call (download 24 MB voice data + compile): ${fmt(initMs, 0)} ms`);
table('First sound after Play (ms, median)', ['mode', 'median', 'all runs', 'vs server mode'], [
  ['server mode (espeak)', fmt(median(serverFs), 0), serverFs.map((x) => fmt(x, 0)).join(', '), '1.00'],
  ['browser mode, warm page', fmt(median(warmFs), 0), warmFs.map((x) => fmt(x, 0)).join(', '), fmt(median(warmFs) / median(serverFs), 2)],
  ['browser mode, cold page', fmt(median(cold), 0), cold.map((x) => fmt(x, 0)).join(', '), fmt(median(cold) / median(serverFs), 2)],
]);
