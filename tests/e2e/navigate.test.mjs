// Journeys through a long document (issue 16): an in-document link scrolls to its target and
// offers "Play from here"; a contents entry plays from its heading; a drag on the progress
// bar of a 2,000-block document lands within one cell of where the pointer is let go.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, newPage, createDoc, playerState, waitFor } from './harness.mjs';

let server, browser, doc;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const parts = ['# Long book', '',
    'Jump to [chapter ten](#chapter-10), visit [an external site](https://example.com/x), or [a relative page](other.html).', ''];
  let n = 0;
  for (let c = 1; n < 2000; c++) {
    parts.push(`## Chapter ${c}`, '');
    for (let p = 0; p < 40 && n < 2000; p++, n++) parts.push(`Paragraph ${n} of chapter ${c} says something short.`, '');
  }
  doc = await createDoc(server, { content: parts.join('\n'), format: 'markdown', title: 'Long book' });
});
after(async () => { await browser?.close(); await server?.cleanup(); });

// The block index of the "## Chapter 10" heading: 2 blocks before chapter 1, 41 per chapter.
const CHAPTER_10 = 2 + 9 * 41;

async function open() {
  const page = await newPage(browser, server, { viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.locator('.progress .cell').first().waitFor();
  return page;
}

const inView = (page, sel) => page.locator(sel).evaluate((el) => {
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight - document.querySelector('.player').offsetHeight;
});

test('an in-document link scrolls to its target and offers to play from there', async () => {
  const page = await open();
  const external = page.locator('.doc-text a', { hasText: 'an external site' });
  assert.equal(await external.getAttribute('target'), '_blank');
  assert.equal(await external.getAttribute('rel'), 'noopener');
  // no source URL: a relative link would point at this server, so it is plain text
  assert.equal(await page.locator('.doc-text a', { hasText: 'a relative page' }).count(), 0);
  assert.equal(await page.locator('.doc-text .link-text', { hasText: 'a relative page' }).count(), 1);

  await page.locator('.doc-text a', { hasText: 'chapter ten' }).click();
  assert.equal(new URL(page.url()).hash, `#/doc/${doc.id}`, 'the page stays on the reader');
  const heading = `.doc-text [data-block-idx="${CHAPTER_10}"]`;
  await waitFor(() => inView(page, heading), { message: 'the Chapter 10 heading scrolled into view' });
  const offer = page.getByRole('button', { name: /Play from here/ });
  await offer.waitFor();
  await offer.click();
  const s = await waitFor(async () => { const x = await playerState(page); return x.textIdx === CHAPTER_10 && x.currentTime > 0.2 && !x.paused && x; },
    { message: 'playing from Chapter 10', timeout: 30000 });
  assert.equal(s.cellIdx, CHAPTER_10);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a contents entry plays from its heading', async () => {
  const page = await open();
  await page.getByRole('button', { name: 'Contents' }).click();
  const nav = page.getByRole('navigation', { name: 'Contents' });
  await nav.getByRole('button', { name: 'Chapter 30', exact: true }).click();
  const idx = 2 + 29 * 41;
  await waitFor(() => inView(page, `.doc-text [data-block-idx="${idx}"]`), { message: 'Chapter 30 in view' });
  await waitFor(async () => { const x = await playerState(page); return x.textIdx === idx && x.currentTime > 0.2 && !x.paused; },
    { message: 'playing from Chapter 30', timeout: 30000 });
  assert.ok(await nav.isHidden(), 'the panel closes after a choice');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a drag on the bar of a 2,000-block document lands within one cell of the pointer', async () => {
  const page = await open();
  const bar = page.locator('.progress');
  await page.locator('.progress.dense').waitFor();   // laid out: the lens is above it now
  await page.locator('.progress-lens').waitFor();
  const box = await bar.boundingBox();
  const count = await page.locator('.progress .cell').count();
  assert.ok(count > 2000, `${count} blocks`);
  assert.ok(await bar.evaluate((el) => el.scrollHeight <= el.clientHeight + 1), 'one row: the whole document, no scrolling');
  // hover names the block and its heading
  const hx = box.x + box.width * 0.5;
  await page.mouse.move(hx, box.y + box.height / 2);
  const tip = await page.locator('.progress-tip').textContent();
  assert.match(tip, /^Block \d+ of \d+ · Chapter \d+ · /);

  const before = (await playerState(page)).cellIdx;   // where the last test left the reader
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * 0.1, y);
  await page.mouse.down();
  for (const f of [0.2, 0.45, 0.6, 0.7]) await page.mouse.move(box.x + box.width * f, y, { steps: 4 });
  const x = box.x + box.width * 0.7;
  await page.mouse.up();
  const want = ((x - box.x) / box.width) * count;   // the block under the pointer, fractional
  const s = await waitFor(async () => { const st = await playerState(page); return st.cellIdx !== before && st; }, { message: 'the cursor moved' });
  assert.ok(Math.abs(s.cellIdx + 0.5 - want) <= 1.5, `landed on ${s.cellIdx}, pointer at ${want.toFixed(1)}`);
  assert.equal(s.textIdx, s.cellIdx);
  // the lens shows the blocks around the cursor, the current one marked
  assert.equal(await page.locator('.progress-lens .lens-cell.current').getAttribute('data-idx'), String(s.cellIdx));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the time readout at about 1:38:13 is fully visible at 1280 px and at 375 px', async () => {
  const { blocks } = await (await fetch(`${server.url}/v1/documents/${doc.id}`)).json();
  // the block whose start is nearest 1:38:13 in the page's own estimate (text and pauses)
  let at = 0, k = 0;
  const want = (1 * 3600 + 38 * 60 + 13) * 1000;
  for (let i = 0; i < blocks.length && at + blocks[i].est_duration_ms + blocks[i].pause_ms <= want; i++) {
    at += blocks[i].est_duration_ms + blocks[i].pause_ms;
    k = i + 1;
  }
  for (const [width, height] of [[1280, 800], [375, 740]]) {
    const page = await newPage(browser, server, { viewport: { width, height } });
    await page.goto(`${server.url}/#/doc/${doc.id}`);
    await page.locator(`.progress .cell[data-block-idx="${k}"]`).waitFor({ state: 'attached' });
    await page.locator('.progress.dense').waitFor();
    const box = await page.locator('.progress').boundingBox();
    // a click on the bar seeks without playing (the estimate then stays the page's own)
    await page.mouse.click(box.x + ((k + 0.5) / blocks.length) * box.width, box.y + box.height / 2);
    const time = page.locator('.player .time');
    await waitFor(async () => /^1:3\d:\d\d \/ \d:\d\d:\d\d$/.test((await time.textContent()).trim()),
      { message: `an h:mm:ss readout near 1:38 (block ${k})` });
    const fit = await page.evaluate(() => {
      const t = document.querySelector('.player .time');
      const r = t.getBoundingClientRect();
      const overlaps = [...document.querySelectorAll('.player .settings > *, .player .transport > *')]
        .map((el) => el.getBoundingClientRect())
        .filter((o) => o.width && o.left < r.right && o.right > r.left && o.top < r.bottom && o.bottom > r.top);
      return { clipped: t.scrollWidth > t.clientWidth + 1, inside: r.left >= 0 && r.right <= window.innerWidth && r.bottom <= window.innerHeight, overlaps: overlaps.length, text: t.textContent };
    });
    assert.deepEqual({ clipped: fit.clipped, inside: fit.inside, overlaps: fit.overlaps }, { clipped: false, inside: true, overlaps: 0 }, `${width} px: ${fit.text}`);
    await page.locator('.player').screenshot({ path: join(tmpdir(), `recite-time-readout-${width}.png`) });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});
