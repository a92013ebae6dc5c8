// Journey: press Play, see Buffering then Playing, hear the audio advance, and watch the
// highlight move to the next block when the first one ends; Space pauses and resumes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, playerState, recordPlayLabels, waitFor, waitForPlayerState } from './harness.mjs';

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
  // Block 0 ("Hello there.") lasts under a second: watched in the page from before the click,
  // since polling from here can first see the sound in block 1 on a loaded machine.
  const firstSound = waitForPlayerState(page, (s) => !s.paused && s.currentTime > 0.1);
  firstSound.catch(() => {});  // awaited below
  await play.click();
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  assert.deepEqual((await labels()).slice(0, 3), ['Play', 'Cancel', 'Pause']);

  const s1 = await firstSound;
  assert.equal(s1.paused, false);
  assert.equal(s1.textIdx, 0);
  assert.equal(s1.cellIdx, 0);
  assert.equal(s1.audioCount, 1);
  // the adaptive start (issue 14): the first block plays once it is cached and the buffer
  // outlasts producing the rest, so blocks 1-3 may still be on their way
  assert.equal(s1.states[0], 'cached', s1.states.join());

  const s2 = await waitFor(async () => { const s = await playerState(page); return s.textIdx === 1 && s; }, { message: 'block 1' });
  assert.equal(s2.cellIdx, 1);
  assert.equal(await page.locator('.doc-text [aria-current="true"]').count(), 1);
  await waitFor(async () => (await playerState(page)).currentTime > 0.2, { message: 'block 1 sound' });

  // Space pauses, Space resumes where it was
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  const paused = await playerState(page);
  const pausedAt = paused.currentTime;
  await page.waitForTimeout(300);
  const still = await playerState(page);
  assert.equal(still.paused, true);
  assert.equal(still.currentTime, pausedAt);
  // Resumed in the block it was paused in, from where it was. On a loaded machine the pause
  // can land late in block 1 (or in block 2), so compare with the paused state rather than
  // assume block 1 with 0.1 s left, and watch in the page so the rest of a block is not missed.
  const resumed = waitForPlayerState(page, (s, p) => s.textIdx === p.textIdx && !s.paused && s.currentTime > p.currentTime, paused);
  resumed.catch(() => {});  // awaited below
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  await resumed;

  // the time readout shows elapsed / total
  assert.match(await page.locator('.time').textContent(), /^\d+:\d\d \/ \d+:\d\d$/);
  assert.deepEqual(page.errors.filter((e) => !/404/.test(e)), []);
});

test('plays to the end of the document and stops', async () => {
  const doc = await createDoc(server, { content: 'One.\n\nTwo.', title: 'Short' });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  const play = page.getByRole('button', { name: 'Play', exact: true });
  await play.waitFor();
  // Both blocks together last about a second: polling for "Pause" (Playwright polls every
  // 500 ms) can miss it entirely on a loaded machine, so record the labels in the page.
  const labels = await recordPlayLabels(page);
  await play.click();
  await page.locator('.status', { hasText: 'Finished' }).waitFor({ timeout: 20000 });
  assert.deepEqual((await labels()).slice(-2), ['Pause', 'Play']);
  const s = await playerState(page);
  assert.equal(s.textIdx, 1);
  assert.deepEqual(s.states, ['cached', 'cached']);
});

test('cancel while buffering returns to Play', async () => {
  const doc = await createDoc(server, { content: Array.from({ length: 12 }, (_, i) => `Sentence number ${i} for cancelling.`).join('\n\n') });
  const page = await newPage(browser, server);
  // Buffering lasts until the test lets it end: the server's `cached` statuses are held back.
  // (The test used to close the page's socket first, but the page (re)connects when its reader
  // view opens, which can come after that close: the socket was then live, Buffering lasted
  // only as long as the first blocks took, and once in CI, under ASan, Cancel was missed.)
  await page.routeWebSocket(/\/v1\/ws\/tts/, (ws) => {
    const upstream = ws.connectToServer();
    ws.onMessage((m) => upstream.send(m));
    upstream.onMessage((m) => { if (JSON.parse(m).status !== 'cached') ws.send(m); });
  });
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.waitForFunction(() => window.recite.ws.state === 'open');
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  assert.equal((await playerState(page)).paused, true);
});
