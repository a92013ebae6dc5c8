// Journey: paste a document (and upload one), open it, find it in the library, delete it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, newPage } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

test('paste markdown, open it, see it in the library, delete it', async () => {
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/`);
  await page.getByText('Nothing here yet.').waitFor();
  await page.getByRole('link', { name: 'New document' }).first().click();
  await page.waitForURL(/#\/new$/);
  await page.getByLabel('Title', { exact: true }).fill('Pasted journey');
  await page.getByLabel('Format').selectOption('markdown');
  await page.getByLabel('Text', { exact: true }).fill('# A heading\n\nFirst paragraph with **bold** text. Second sentence.\n\n- one item\n- two items\n\n```\ncode is not spoken\n```\n');
  await page.getByRole('button', { name: 'Create and open' }).click();
  await page.waitForURL(/#\/doc\/[^/]+$/);
  await page.locator('.doc-text [data-block-idx]').first().waitFor();
  // the text is inserted at once, the player state (current block) on the next frame
  await page.locator('.doc-text [aria-current="true"]').first().waitFor();
  const info = await page.evaluate(() => ({
    title: document.querySelector('.reader-head h1').textContent,
    spans: [...document.querySelectorAll('.doc-text [data-block-idx]')].map((e) => Number(e.dataset.blockIdx)),
    cells: [...document.querySelectorAll('.cell')].map((c) => [Number(c.dataset.blockIdx), c.dataset.state]),
    current: document.querySelector('.doc-text [aria-current="true"]')?.dataset.blockIdx,
    bold: !!document.querySelector('.doc-text strong'),
    code: !!document.querySelector('.doc-text pre'),
    audios: document.querySelectorAll('audio').length,
    play: document.querySelector('button.play').getAttribute('aria-label'),
  }));
  assert.equal(info.title, 'Pasted journey');
  assert.ok(info.spans.length >= 4, `spoken pieces: ${info.spans}`);
  assert.equal(info.cells.length, Math.max(...info.spans) + 1);
  assert.ok(info.cells.every(([i, s], k) => i === k && s === 'pending'));
  assert.equal(info.current, '0');
  assert.ok(info.bold && info.code, 'markdown rendered');
  assert.equal(info.audios, 1);
  assert.equal(info.play, 'Play');

  await page.getByRole('link', { name: '← Library' }).click();
  const item = page.locator('.doc-item', { hasText: 'Pasted journey' });
  await item.waitFor();
  assert.match(await item.textContent(), /blocks/);
  page.once('dialog', (d) => d.accept());
  await item.getByRole('button', { name: /Delete/ }).click();
  await page.getByText('Nothing here yet.').waitFor();
  const res = await fetch(`${server.url}/v1/documents`);
  assert.deepEqual(await res.json(), []);
  assert.deepEqual(page.errors.filter((e) => !/404/.test(e)), []);
});

test('upload a file as multipart/form-data and open it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recite-up-'));
  const file = join(dir, 'notes.md');
  writeFileSync(file, '# Uploaded notes\n\nThis file came from the upload form.\n');
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/new`);
  await page.getByRole('tab', { name: 'Upload a file' }).click();
  await page.locator('input[type=file]').setInputFiles(file);
  await page.getByRole('button', { name: 'Create and open' }).click();
  await page.waitForURL(/#\/doc\/[^/]+$/);
  await page.locator('.doc-text [data-block-idx]').first().waitFor();
  assert.equal(await page.locator('.reader-head h1').textContent(), 'Uploaded notes');
  assert.match(await page.locator('.doc-text').textContent(), /came from the upload form/);
});

test('an empty paste is refused in the page with a clear message', async () => {
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/new`);
  await page.getByRole('button', { name: 'Create and open' }).click();
  await page.getByRole('alert').filter({ hasText: 'Paste some text first.' }).waitFor();
  assert.match(page.url(), /#\/new$/);
});
