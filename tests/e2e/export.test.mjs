// Journey: export a document as an audiobook from the reading page — choose .m4b, start,
// watch the progress, reload the page in the middle (the server's job is found again), and
// download the file when it is ready: an .m4b with the document's chapters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, newPage, createDoc } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer({ args: ['--workers', '1'] }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

const BOOK = '# Rivers\n\nWater runs downhill.\n\n## Springs\n\nA river starts small.\n\n' +
  '## Deltas\n\nIt ends wide and slow, near the sea.\n';

test('export an audiobook from the reading page, through a reload, and download it', async () => {
  const doc = await createDoc(server, { content: BOOK, format: 'markdown' });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.locator('.doc-text [data-block-idx]').first().waitFor();
  await page.getByLabel('Export format').selectOption('m4b');
  await page.getByRole('button', { name: 'Export audio' }).click();
  await page.locator('.export-status').filter({ hasText: /Preparing|Exporting|Writing|Ready/ }).waitFor();

  await page.reload();
  await page.locator('.doc-text [data-block-idx]').first().waitFor();
  // the job is the server's: the panel finds it again and follows it to the end
  await page.locator('.export-status').filter({ hasText: /Preparing|Exporting|Writing|Ready/ }).waitFor();
  assert.equal(await page.getByLabel('Export format').inputValue(), 'm4b');
  const downloadBtn = page.getByRole('button', { name: 'Download' });
  await downloadBtn.waitFor({ timeout: 60_000 });
  assert.match(await page.locator('.export-status').textContent(), /Ready/);

  const [dl] = await Promise.all([page.waitForEvent('download'), downloadBtn.click()]);
  assert.equal(dl.suggestedFilename(), 'Rivers.m4b');
  const dir = mkdtempSync(join(tmpdir(), 'recite-export-'));
  const file = join(dir, 'rivers.m4b');
  await dl.saveAs(file);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_chapters', '-of', 'json', file]).toString());
  assert.deepEqual(probe.chapters.map((c) => c.tags.title), ['Rivers', 'Springs', 'Deltas']);
  assert.deepEqual(page.errors, []);
  writeFileSync(join(dir, 'ok'), '');
});

test('an export survives the server being killed: after a reload the panel follows it to the file', async () => {
  const long = '# Lakes\n\nStill water.\n\n' + ['Shores', 'Depths'].map((c) => `## ${c}\n\n` +
    Array.from({ length: 6 }, (_, i) => `Sentence ${i} about ${c.toLowerCase()} and the water there.`).join('\n\n')).join('\n\n');
  const doc = await createDoc(server, { content: long, format: 'markdown' });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.locator('.doc-text [data-block-idx]').first().waitFor();
  await page.getByLabel('Export format').selectOption('ogg');
  await page.getByRole('button', { name: 'Export audio' }).click();
  await page.locator('.export-status').filter({ hasText: /Preparing|Exporting|Writing|Ready/ }).waitFor();

  await server.restart({ hard: true });   // SIGKILL, then the same data directory and port
  await page.reload();
  await page.locator('.doc-text [data-block-idx]').first().waitFor();
  await page.locator('.export-status').filter({ hasText: /Preparing|Exporting|Writing|Ready/ }).waitFor();
  assert.equal(await page.getByLabel('Export format').inputValue(), 'ogg');
  const downloadBtn = page.getByRole('button', { name: 'Download' });
  await downloadBtn.waitFor({ timeout: 60_000 });
  const [dl] = await Promise.all([page.waitForEvent('download'), downloadBtn.click()]);
  assert.equal(dl.suggestedFilename(), 'Lakes.ogg');
  const file = join(mkdtempSync(join(tmpdir(), 'recite-export-')), 'lakes.ogg');
  await dl.saveAs(file);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_chapters', '-of', 'json', file]).toString());
  assert.deepEqual(probe.chapters.map((c) => c.tags.title), ['Lakes', 'Shores', 'Depths']);
});
