// Journey: switch the voice while playing; playback restarts from the current block in the
// new voice and the choice is remembered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, paragraphs, playerState, waitFor } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

test('switch voice while playing', async () => {
  const doc = await createDoc(server, { content: paragraphs(20), title: 'Voice journey' });
  const page = await newPage(browser, server);
  const sent = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(JSON.parse(f.payload))));
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  const picker = page.getByRole('combobox', { name: 'Voice' });
  await waitFor(() => picker.evaluate((s) => s.querySelectorAll('optgroup').length > 1), { message: 'voices loaded' });
  assert.match(await picker.inputValue(), /^espeak.en-us$/);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await waitFor(async () => (await playerState(page)).currentTime > 0.3, { message: 'first sound' });
  await page.locator('.doc-text [data-block-idx="3"]').click();
  // !paused: right after the click <audio> still holds block 0 (paused, currentTime > 0.2),
  // and firstUrl must be block 3's audio for the "new voice" check below to mean anything
  await waitFor(async () => { const s = await playerState(page); return s.textIdx === 3 && !s.paused && s.currentTime > 0.2; }, { message: 'block 3' });
  const firstUrl = await page.evaluate(() => document.querySelector('audio').src);

  const value = await picker.evaluate((s) => [...s.options].find((o) => /.en-gb$/.test(o.value) || /.de$/.test(o.value)).value);
  await picker.selectOption(value);
  const voice = value.split(/\W/).pop();
  const req = await waitFor(() => sent.find((m) => m.type === 'synthesize' && m.voice !== 'en-us'), { message: 'new-voice request' });
  assert.equal(req.cursor, 3);
  assert.equal(req.block_indices[0], 3);
  await waitFor(async () => {
    const s = await playerState(page);
    return s.textIdx === 3 && !s.paused && s.currentTime > 0.2 && (await page.evaluate(() => document.querySelector('audio').src)) !== firstUrl;
  }, { message: 'playing block 3 in the new voice' });
  assert.equal(await page.getByRole('button', { name: 'Pause', exact: true }).count(), 1);
  assert.ok(voice.length > 0);

  // remembered on reload
  await page.reload();
  await waitFor(async () => (await page.getByRole('combobox', { name: 'Voice' }).inputValue()) === value, { message: 'voice remembered' });
  assert.deepEqual(page.errors.filter((e) => !/404/.test(e)), []);
});
