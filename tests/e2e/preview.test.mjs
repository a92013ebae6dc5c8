// Journey: preview a voice from the picker; the page plays the preview sentence's audio
// (the endpoint answers {audio_url, text}; the picker must follow the URL, not play JSON).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, paragraphs, playerState, waitFor } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

test('the preview button plays the voice', async () => {
  const doc = await createDoc(server, { content: paragraphs(3), title: 'Preview journey' });
  const page = await newPage(browser, server);
  const audioGets = [];
  page.on('request', (r) => { if (r.url().includes('/v1/audio/')) audioGets.push(r.url()); });
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  const preview = page.getByRole('button', { name: 'Preview voice' });
  await preview.waitFor({ state: 'visible', timeout: 15000 });
  await preview.click();
  await waitFor(() => page.evaluate(() => {
    const a = document.querySelector('audio');
    return a.src.startsWith('blob:') && a.currentTime > 0.2;
  }), { message: 'preview audio playing' });
  assert.ok(audioGets.some((u) => /\/v1\/audio\/[0-9a-f]{64}$/.test(u)), 'the preview audio was fetched by its hash');
  assert.equal(await page.getByRole('button', { name: 'Play', exact: true }).count(), 1, 'the document is not playing');
});

test('a preview while reading pauses the reading, and the reading goes on after it', async () => {
  const doc = await createDoc(server, { content: paragraphs(12), title: 'Preview while reading' });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await waitFor(async () => { const s = await playerState(page); return s.label === 'Pause' && s.currentTime > 0.3; }, { message: 'reading' });
  const block = (await playerState(page)).textIdx;
  await page.getByRole('button', { name: 'Preview voice' }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor({ timeout: 15000 });   // paused for the preview
  // then reading again, in the same block or later (never back at the start)
  const s = await waitFor(async () => { const x = await playerState(page); return x.label === 'Pause' && x.currentTime > 0.2 && x; },
    { message: 'reading again after the preview', timeout: 30000 });
  assert.ok(s.textIdx >= block, `resumed at ${s.textIdx}, was at ${block}`);
  assert.deepEqual(page.errors, []);
});
