// Journey: browser synthesis (SPEC section 9). Choose a voice "in this browser", press Play:
// espeak-ng runs as WebAssembly in a Web Worker, the audio plays (currentTime advances), the
// progress cells turn cached, every block is uploaded (POST /v1/audio); after a reload the
// server answers the uploaded blocks `cached` and the page does not synthesize them again.
// Second journey: a server with no workers (--workers 0, no Redis) offers only the browser
// voices, and the page plays with them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, paragraphs, playerState, waitFor } from './harness.mjs';

// generous hang guards: the shared 2-core machine can be very loaded
const LONG = 60_000;
let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

const cells = (page) => page.evaluate(() =>
  [...document.querySelectorAll('[data-block-idx][data-state]')].filter((c) => !c.closest('.doc-text')).map((c) => c.dataset.state));

test('a browser voice plays, its blocks are uploaded, and come back cached after a reload', async () => {
  const doc = await createDoc(server, { content: paragraphs(6), title: 'Browser voice' });
  const page = await newPage(browser, server);
  const uploads = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/v1/audio')) uploads.push(r); });
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  const picker = page.getByRole('combobox', { name: 'Voice' });
  await waitFor(() => picker.evaluate((s) => [...s.options].some((o) => o.value.startsWith('browser'))), { timeout: LONG, message: 'browser voices listed' });
  const label = await picker.evaluate((s) => [...s.options].find((o) => o.value === 'browser\u241fen-us').textContent);
  assert.match(label, /In this browser/);
  await picker.selectOption('browser\u241fen-us');
  // the preview speaks a sentence synthesized in this page
  const preview = page.getByRole('button', { name: 'Preview voice' });
  await waitFor(() => preview.isVisible(), { timeout: LONG, message: 'preview offered for a browser voice' });
  await preview.click();
  await waitFor(async () => { const s = await playerState(page); return s.currentTime > 0.2 && !s.paused; },
    { timeout: LONG, message: 'the preview plays' });
  assert.match(await page.evaluate(() => document.querySelector('audio').src), /^blob:/);
  await waitFor(async () => (await playerState(page)).paused || (await playerState(page)).ended, { timeout: LONG, message: 'the preview ends' });

  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await waitFor(async () => (await playerState(page)).currentTime > 0.3, { timeout: LONG, message: 'first sound' });
  assert.match(await page.evaluate(() => document.querySelector('audio').src), /^blob:/, 'played from memory');
  await waitFor(async () => (await cells(page)).every((s) => s === 'cached'), { timeout: LONG, message: 'every cell cached' });
  await waitFor(async () => {
    const done = await Promise.all(uploads.map(async (r) => (await r.response())?.status()));
    return done.filter((s) => s === 201).length === 6;
  }, { timeout: LONG, message: 'six uploads answered 201' });
  const headers = uploads[0].headers();
  assert.equal(headers['x-model'], 'browser');
  assert.equal(headers['x-voice'], 'en-us');
  assert.match(headers['content-type'], /^audio\/(ogg|wav)$/);
  assert.equal(headers['x-word-timings'], undefined, 'the word timings ride in the body, whatever their length');

  // reload: the server has them for this user; the page plays them without synthesizing
  const received = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => { try { received.push(JSON.parse(f.payload)); } catch { /* */ } }));
  await page.reload();
  await waitFor(async () => (await picker.inputValue()) === 'browser\u241fen-us', { timeout: LONG, message: 'voice remembered' });
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await waitFor(() => received.filter((m) => m.type === 'status' && m.status === 'cached').length >= 6, { timeout: LONG, message: 'six cached statuses' });
  const st = received.filter((m) => m.type === 'status');
  assert.ok(st.every((m) => m.status === 'cached' && m.model === 'browser' && /^\/v1\/audio\/[0-9a-f]{64}$/.test(m.audio_url)),
    JSON.stringify(st.map((m) => m.status)));
  assert.ok(st.every((m) => Array.isArray(m.word_timings) && m.word_timings.length >= 8),
    'the page\'s word timings were uploaded with the audio (highlighting after a reload)');
  await waitFor(async () => (await playerState(page)).currentTime > 0.3, { timeout: LONG, message: 'plays the uploaded audio' });
  assert.match(await page.evaluate(() => document.querySelector('audio').src), /^blob:/);
  assert.equal(uploads.length, 6, 'nothing synthesized or uploaded again');
  assert.deepEqual(page.errors, []);
});

test('a server without workers plays with the browser voices', async () => {
  const lone = await startServer({ args: ['--workers', '0'] });
  try {
    const doc = await createDoc(lone, { content: paragraphs(3), title: 'No workers' });
    const page = await newPage(browser, lone);
    await page.goto(`${lone.url}/#/doc/${doc.id}`);
    const picker = page.getByRole('combobox', { name: 'Voice' });
    await waitFor(async () => (await picker.inputValue()) === 'browser\u241fen-us', { timeout: LONG, message: 'fell back to the browser voice' });
    assert.equal(await picker.evaluate((s) => [...s.options].filter((o) => !o.value.startsWith('browser')).length), 0,
      'server voices are not offered: nothing would synthesize them');
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await waitFor(async () => (await playerState(page)).currentTime > 0.3, { timeout: LONG, message: 'first sound' });
    assert.deepEqual(page.errors, []);
  } finally {
    await lone.cleanup();
  }
});
