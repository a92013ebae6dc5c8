// measure.mjs — not a test: prints how the player feels, against the real server.
//   node tests/e2e/measure.mjs            (RECITE_BIN=... to pick the binary)
// 1. Play -> first sound on a new (uncached) document, median of 5.
// 2. The largest gap between consecutive blocks while playing ('ended' -> next 'playing').
// 3. How long a 10,000-block document takes to open (request, then page ready).
import { startServer, launchBrowser, newPage, createDoc, paragraphs, waitFor } from './harness.mjs';

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const ms = (x) => `${Math.round(x)} ms`;

async function instrument(page) {
  await page.evaluate(() => {
    const audio = document.querySelector('audio');
    const btn = document.querySelector('button.play');
    window.__m = { click: null, firstSound: null, ended: [], playing: [] };
    btn.addEventListener('click', () => { if (window.__m.click === null) window.__m.click = performance.now(); }, true);
    audio.addEventListener('ended', () => window.__m.ended.push(performance.now()));
    audio.addEventListener('playing', () => window.__m.playing.push(performance.now()));
    const poll = () => {
      if (window.__m.firstSound === null && audio.currentTime > 0 && !audio.paused) window.__m.firstSound = performance.now();
      if (window.__m.firstSound === null) requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  });
}

async function firstSound(browser, server, run) {
  const words = Array.from({ length: 20 }, (_, i) => `Run ${run} ${Date.now()} paragraph ${i}: ${paragraphs(1, 10 + (i % 5)).slice(13)}`);
  const doc = await createDoc(server, { content: words.join('\n\n'), title: `First sound ${run}` });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.locator('button.play').waitFor();
  await waitFor(() => page.evaluate(() => window.recite.ws.state === 'open'), { message: 'socket' });
  await instrument(page);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  const m = await waitFor(() => page.evaluate(() => window.__m.firstSound !== null && window.__m), { timeout: 30000, message: 'first sound' });
  await page.context().close();
  return m.firstSound - m.click;
}

async function gaps(browser, server) {
  const doc = await createDoc(server, { content: Array.from({ length: 24 }, (_, i) => `Short block number ${i + 1}, read quickly.`).join('\n\n'), title: 'Gaps' });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.locator('button.play').waitFor();
  await page.evaluate(() => window.recite.engine.setSpeed(2));
  await instrument(page);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await waitFor(() => page.evaluate(() => window.__m.ended.length >= 16), { timeout: 120000, message: '16 blocks' });
  const m = await page.evaluate(() => window.__m);
  await page.context().close();
  const out = [];
  for (const e of m.ended) {
    const next = m.playing.find((p) => p >= e);
    if (next !== undefined) out.push(next - e);
  }
  return out;
}

async function bigDocument(browser, server) {
  const content = paragraphs(10000, 5);
  let t = performance.now();
  const doc = await createDoc(server, { content, title: 'Ten thousand blocks' });
  const createMs = performance.now() - t;
  t = performance.now();
  const res = await fetch(`${server.url}/v1/documents/${doc.id}`);
  const body = await res.text();
  const getMs = performance.now() - t;
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/`);
  await page.locator('.doc-item').first().waitFor();
  t = performance.now();
  await page.evaluate((id) => { location.hash = `#/doc/${id}`; }, doc.id);
  await page.waitForFunction(() => document.querySelectorAll('.cell').length === 10000
    && document.querySelectorAll('.doc-text [data-block-idx]').length >= 10000, null, { timeout: 60000, polling: 'raf' });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const openMs = performance.now() - t;
  t = performance.now();
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.waitForFunction(() => { const a = document.querySelector('audio'); return a.currentTime > 0 && !a.paused; }, null, { timeout: 60000, polling: 'raf' });
  const playMs = performance.now() - t;
  await page.context().close();
  return { blocks: doc.block_count, createMs, getMs, bytes: body.length, openMs, playMs };
}

const server = await startServer();
const browser = await launchBrowser();
try {
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await firstSound(browser, server, i));
  console.log(`play -> first sound (new document): median ${ms(median(runs))}  [${runs.map(ms).join(', ')}]`);
  const g = await gaps(browser, server);
  console.log(`gap between blocks ('ended' -> next 'playing'): max ${ms(Math.max(...g))}, median ${ms(median(g))} over ${g.length} transitions`);
  const big = await bigDocument(browser, server);
  console.log(`10,000-block document (${big.blocks} blocks): POST ${ms(big.createMs)}, GET ${ms(big.getMs)} (${(big.bytes / 1e6).toFixed(1)} MB), page open ${ms(big.openMs)}, then play -> sound ${ms(big.playMs)}`);
} finally {
  await browser.close();
  await server.cleanup();
}
