// Journey: a server with a natural voice installed (a tiny Kokoro-interface model, as the
// integration suite makes) — a reader who never chose a voice hears the natural one of the
// browser's language, and natural voices head their language's group in the picker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKokoro } from '../data/kokoro/make_kokoro.mjs';
import { startServer, launchBrowser, newPage, createDoc, waitForPlayerState } from './harness.mjs';

let server, browser, dataDir;
before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'recite-e2e-natural-'));
  writeKokoro(join(dataDir, 'voices'));
  server = await startServer({ dataDir });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('a first-time reader gets the natural voice of their language, listed first, and hears it', async () => {
  const doc = await createDoc(server, { content: 'A natural voice reads this.\n\nAnd this second block too.', title: 'Natural' });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  const select = page.getByRole('combobox', { name: 'Voice' });
  // Chromium's navigator.language is en-US: Kokoro's American English voice
  await page.waitForFunction(() => document.querySelector('.voice-select')?.selectedOptions[0]?.textContent.includes('Kokoro'));
  assert.equal(await select.evaluate((s) => s.selectedOptions[0].textContent), 'Test (American English, female) — Kokoro');
  const english = await page.evaluate(() => [...document.querySelector('.voice-select optgroup[label="English"]').children].map((o) => o.textContent));
  assert.deepEqual(english.slice(0, 2), ['Test (American English, female) — Kokoro', 'Test (British English, male) — Kokoro']);
  assert.match(english.at(-1), /In this browser$/);

  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await waitForPlayerState(page, (s) => !s.paused && s.currentTime > 0.05);
  assert.match(server.log, /kokoro: loaded/);

  // a reader's own choice is kept over the natural default after a reload
  await select.selectOption({ label: 'English (America) — eSpeak NG' });
  await page.reload();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  await page.waitForFunction(() => document.querySelector('.voice-select optgroup'));
  assert.equal(await select.evaluate((s) => s.selectedOptions[0].textContent), 'English (America) — eSpeak NG');
  assert.deepEqual(page.errors, []);
});
