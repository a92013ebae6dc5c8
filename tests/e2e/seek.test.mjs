// Journey: while playing, click a block far ahead (and a progress cell), and hear playback
// continue from there; the old position never comes back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, paragraphs, playerState, waitFor } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

function watchFrames(page) {
  const sent = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => { try { sent.push(JSON.parse(f.payload)); } catch { /* binary */ } }));
  return sent;
}

test('click a block far ahead while playing: playback continues from there', async () => {
  const doc = await createDoc(server, { content: paragraphs(60), title: 'Seek journey' });
  const page = await newPage(browser, server);
  const sent = watchFrames(page);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await waitFor(async () => (await playerState(page)).currentTime > 0.3, { message: 'first sound' });

  const target = page.locator('.doc-text [data-block-idx="45"]');
  await target.scrollIntoViewIfNeeded();
  await target.click();
  await waitFor(async () => { const s = await playerState(page); return s.textIdx === 45 && s.cellIdx === 45; }, { message: 'cursor 45' });
  assert.ok(sent.some((m) => m.type === 'cursor_moved' && m.cursor === 45), 'cursor_moved sent');
  const req = sent.filter((m) => m.type === 'synthesize').at(-1);
  assert.ok(req.block_indices.includes(45) && req.cursor === 45, JSON.stringify(req));
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  const s = await waitFor(async () => { const x = await playerState(page); return x.currentTime > 0.3 && !x.paused && x; }, { message: 'sound at 45' });
  assert.equal(s.textIdx, 45);
  assert.equal(await page.locator('.doc-text [aria-current="true"]').count(), 1);
  const cell = page.locator('.cell[data-block-idx="45"]');
  assert.equal(await cell.getAttribute('aria-current'), 'true');
  assert.equal(await cell.getAttribute('data-state'), 'cached');

  // the progress bar seeks too
  await page.locator('.cell[data-block-idx="10"]').click();
  await waitFor(async () => { const x = await playerState(page); return x.textIdx === 10 && x.currentTime > 0.2 && !x.paused; }, { message: 'sound at 10' });

  // j / k move by one block
  await page.keyboard.press('j');
  await waitFor(async () => (await playerState(page)).textIdx === 11, { message: 'j' });
  await page.keyboard.press('k');
  await page.keyboard.press('k');
  await waitFor(async () => (await playerState(page)).textIdx === 9, { message: 'k' });
  await waitFor(async () => { const x = await playerState(page); return x.currentTime > 0.2 && !x.paused; }, { message: 'sound at 9' });
  // no block was requested twice while its request was outstanding
  const counts = new Map();
  for (const m of sent.filter((x) => x.type === 'synthesize')) for (const i of m.block_indices) counts.set(i, (counts.get(i) || 0) + 1);
  assert.ok([...counts.values()].every((c) => c === 1), JSON.stringify([...counts]));
  assert.deepEqual(page.errors.filter((e) => !/404/.test(e)), []);
});
