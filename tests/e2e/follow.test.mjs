// Journey: the current block is kept in view while reading; after the reader scrolls away a
// "Back to reading" pill appears, and it brings the current block back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, paragraphs, playerState, waitFor } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

const inView = (page, idx) => page.evaluate((i) => {
  const el = document.querySelector(`.doc-text [data-block-idx="${i}"]`);
  const r = el.getBoundingClientRect();
  const bar = document.querySelector('.player').getBoundingClientRect();
  return r.bottom > 0 && r.top < bar.top;
}, idx);

// The page has stopped scrolling: the same scrollY across a few frames.
const atRest = (page) => waitFor(() => page.evaluate(() => new Promise((resolve) => {
  const y = scrollY;
  let frames = 0;
  const tick = () => { if (scrollY !== y) resolve(false); else if (++frames === 6) resolve(true); else requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})), { message: 'the page at rest' });

test('keeps the current block in view; Back to reading after scrolling away', async () => {
  const doc = await createDoc(server, { content: paragraphs(80, 14), title: 'Follow journey' });
  const page = await newPage(browser, server, { viewport: { width: 1000, height: 700 } });
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  // move far down with the keyboard while stopped: the page follows
  for (let i = 0; i < 40; i++) await page.keyboard.press('j');
  await waitFor(async () => (await playerState(page)).textIdx === 40, { message: 'cursor 40' });
  await waitFor(() => inView(page, 40), { message: 'block 40 scrolled into view' });

  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  const pill = page.getByRole('button', { name: 'Back to reading', exact: true });
  assert.equal(await pill.isVisible(), false);

  // Chromium drops a wheel that arrives while a smooth scroll is still running (the follow
  // scroll to block 40 can outlast the check above on a loaded machine): scroll from rest.
  await atRest(page);
  await page.mouse.move(500, 300);
  await page.mouse.wheel(0, -6000);
  await pill.waitFor({ state: 'visible' });
  assert.equal(await inView(page, 40), false);
  await pill.click();
  await waitFor(async () => inView(page, (await playerState(page)).textIdx), { message: 'current block back in view' });
  await pill.waitFor({ state: 'hidden' });
});
