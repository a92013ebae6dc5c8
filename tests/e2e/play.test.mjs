// Journey: press Play, see Buffering then Playing, hear the audio advance, and watch the
// highlight move to the next block when the first one ends; Space pauses and resumes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, playerState, recordPlayLabels, waitFor } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

test('play: Buffering -> Playing, audio advances, highlight follows the blocks', async () => {
  const doc = await createDoc(server, {
    title: 'Play journey',
    content: 'Hello there.\n\nThis is the second block, a little longer than the first.\n\nThird block.\n\nFourth block here.\n\nFifth and last block.',
  });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  const play = page.getByRole('button', { name: 'Play', exact: true });
  await play.waitFor();
  const labels = await recordPlayLabels(page);
  await play.click();
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  assert.deepEqual((await labels()).slice(0, 3), ['Play', 'Cancel', 'Pause']);

  const s1 = await waitFor(async () => { const s = await playerState(page); return s.currentTime > 0.1 && s; }, { message: 'sound' });
  assert.equal(s1.paused, false);
  assert.equal(s1.textIdx, 0);
  assert.equal(s1.cellIdx, 0);
  assert.equal(s1.audioCount, 1);
  assert.ok(s1.states.slice(0, 4).every((x) => x === 'cached'), s1.states.join());

  const s2 = await waitFor(async () => { const s = await playerState(page); return s.textIdx === 1 && s; }, { message: 'block 1' });
  assert.equal(s2.cellIdx, 1);
  assert.equal(await page.locator('.doc-text [aria-current="true"]').count(), 1);
  await waitFor(async () => (await playerState(page)).currentTime > 0.2, { message: 'block 1 sound' });

  // Space pauses, Space resumes where it was
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  const pausedAt = (await playerState(page)).currentTime;
  await page.waitForTimeout(300);
  const still = await playerState(page);
  assert.equal(still.paused, true);
  assert.equal(still.currentTime, pausedAt);
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  await waitFor(async () => (await playerState(page)).currentTime > pausedAt + 0.1, { message: 'resumed' });
  assert.equal((await playerState(page)).textIdx, 1);

  // the time readout shows elapsed / total
  assert.match(await page.locator('.time').textContent(), /^\d+:\d\d \/ \d+:\d\d$/);
  assert.deepEqual(page.errors.filter((e) => !/404/.test(e)), []);
});

test('plays to the end of the document and stops', async () => {
  const doc = await createDoc(server, { content: 'One.\n\nTwo.', title: 'Short' });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor({ timeout: 20000 });
  await page.locator('.status', { hasText: 'Finished' }).waitFor();
  const s = await playerState(page);
  assert.equal(s.textIdx, 1);
  assert.deepEqual(s.states, ['cached', 'cached']);
});

test('cancel while buffering returns to Play', async () => {
  const doc = await createDoc(server, { content: Array.from({ length: 12 }, (_, i) => `Sentence number ${i} for cancelling.`).join('\n\n') });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  // hold the socket back so Buffering lasts long enough to click Cancel
  await page.evaluate(() => { window.recite.ws.close(); });
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  assert.equal((await playerState(page)).paused, true);
});
