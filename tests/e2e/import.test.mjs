// Journey: bring a document in from elsewhere — a web page by its URL (the article only,
// the source shown on the reading page), a PDF dropped anywhere on the page, a refused
// address explained in the page. The web page comes from a test server on 127.0.0.1
// (the recite server runs with --allow-private-urls).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, launchBrowser, newPage } from './harness.mjs';
import { makePdf } from '../integration/import-fixtures.mjs';

const PAGE = `<!doctype html><html><head><title>Tides | Coast News</title></head><body>
<nav><a href="/">Home</a><a href="/sport">Sport</a></nav>
<div class="cookie-consent"><p>We use cookies. Accept them all?</p></div>
<article><h1>How the Tides Work</h1><p>The moon pulls the <a href="/glossary#sea">sea</a> towards it, twice a day.</p>
<aside class="related"><p>Read next: ten beaches to visit.</p></aside>
<p>The sun helps a little, which is why <a href="notes/springs.html">spring tides</a> are higher.</p></article>
<section class="comments"><p>Great read!</p></section></body></html>`;

let server, browser, site, siteUrl;
before(async () => {
  site = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  siteUrl = `http://127.0.0.1:${site.address().port}/tides`;
  server = await startServer({ args: ['--allow-private-urls'] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.cleanup();
  await new Promise((r) => site?.close(r));
});

test('import a web page by its URL: the article is read and its source is shown', async () => {
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/new`);
  await page.getByRole('tab', { name: 'From a web page' }).click();
  await page.getByLabel('Web page address').fill(siteUrl);
  await page.getByRole('button', { name: 'Create and open' }).click();
  await page.waitForURL(/#\/doc\/[^/]+$/);
  await page.locator('.doc-text [data-block-idx]').first().waitFor();
  assert.equal(await page.locator('.reader-head h1').textContent(), 'How the Tides Work');
  const spoken = await page.locator('.doc-text [data-block-idx]').allTextContents();
  assert.deepEqual(spoken, ['How the Tides Work', 'The moon pulls the sea towards it, twice a day.',
    'The sun helps a little, which is why spring tides are higher.']);
  // the article's relative links resolve against the page it came from, and open apart
  const origin = new URL(siteUrl).origin;
  for (const [text, href] of [['sea', `${origin}/glossary#sea`], ['spring tides', `${origin}/notes/springs.html`]]) {
    const a = page.locator('.doc-text a', { hasText: text });
    assert.equal(await a.getAttribute('href'), href, text);
    assert.equal(await a.getAttribute('target'), '_blank', text);
    assert.equal(await a.getAttribute('rel'), 'noopener', text);
  }
  const source = page.locator('.reader-head a.source-url');
  assert.equal(await source.getAttribute('href'), siteUrl);
  assert.equal(await source.textContent(), new URL(siteUrl).host);
  assert.deepEqual(page.errors, []);
});

test('a PDF dropped anywhere on the new-document page is uploaded and opened', async () => {
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/new`);
  await page.getByRole('heading', { name: 'New document' }).waitFor();
  const pdf = makePdf([[{ x: 50, y: 100, size: 18, text: 'Dropped Paper' },
    { x: 50, y: 140, text: 'It arrived by drag and drop.' }]]);
  // a real drop event carrying the file, on the page heading (not the drop zone)
  await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'paper.pdf', { type: 'application/pdf' }));
    const target = document.querySelector('.page.new h1');
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, pdf.toString('base64'));
  await page.getByText('paper.pdf').waitFor();
  assert.equal(await page.getByRole('tab', { name: 'Upload a file' }).getAttribute('aria-selected'), 'true');
  await page.getByRole('button', { name: 'Create and open' }).click();
  await page.waitForURL(/#\/doc\/[^/]+$/);
  await page.locator('.doc-text [data-block-idx]').first().waitFor();
  assert.equal(await page.locator('.reader-head h1').textContent(), 'Dropped Paper');
  assert.match(await page.locator('.doc-text').textContent(), /arrived by drag and drop/);
});

test('an address the server will not fetch is explained in the page', async () => {
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/new`);
  await page.getByRole('tab', { name: 'From a web page' }).click();
  await page.getByLabel('Web page address').fill('ftp://example.com/file.txt');
  await page.getByRole('button', { name: 'Create and open' }).click();
  await page.getByRole('alert').filter({ hasText: 'starting with http:// or https://' }).waitFor();
  // nothing listens on the discard port: the server says it cannot fetch the page
  await page.getByLabel('Web page address').fill('http://127.0.0.1:9/nothing-listens-here');
  await page.getByRole('button', { name: 'Create and open' }).click();
  await page.getByRole('alert').filter({ hasText: /cannot fetch/ }).waitFor();
  assert.match(page.url(), /#\/new$/);
  assert.equal(await page.getByRole('button', { name: 'Create and open' }).isEnabled(), true);
});
