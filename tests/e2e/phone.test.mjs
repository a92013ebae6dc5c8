// Journey: a 375 px wide phone: nothing overflows sideways, every control is reachable,
// and playing works by touch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, createDoc, paragraphs, playerState, waitFor } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

test('375 px viewport', async () => {
  const doc = await createDoc(server, { content: `# A phone-sized heading that is fairly long\n\n${paragraphs(12)}`, format: 'markdown', title: 'Phone journey' });
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await context.newPage();
  for (const hash of ['#/', '#/new', `#/doc/${doc.id}`]) {
    await page.goto(`${server.url}/${hash}`);
    await page.waitForLoadState('networkidle');
    const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
    assert.ok(width <= 375, `${hash}: page is ${width}px wide`);
  }
  await page.locator('.doc-text [data-block-idx]').first().waitFor();
  for (const name of ['Play', 'Previous block', 'Next block', 'Mute']) {
    const b = page.getByRole('button', { name, exact: true });
    const box = await b.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 375 && box.y + box.height <= 740, `${name} visible: ${JSON.stringify(box)}`);
  }
  const voice = await page.getByRole('combobox', { name: 'Voice' }).boundingBox();
  assert.ok(voice.x + voice.width <= 375);
  await page.getByRole('button', { name: 'Play', exact: true }).tap();
  await waitFor(async () => (await playerState(page)).currentTime > 0.2, { message: 'sound' });
  await page.locator('.doc-text [data-block-idx="6"]').tap();
  await waitFor(async () => { const s = await playerState(page); return s.textIdx === 6 && s.currentTime > 0.2; }, { message: 'tap a block' });
  await context.close();
});
