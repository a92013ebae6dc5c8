// Journey: while playing, click a block far ahead (and a progress cell), and hear playback
// continue from there; the old position never comes back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, paragraphs, playerState, waitFor } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

// Frames the page sent; sent.log has sent (out) and received (in) frames in order.
function watchFrames(page) {
  const sent = [];
  const log = [];
  const parse = (f) => { try { return JSON.parse(f.payload); } catch { return null; /* binary */ } };
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => { const m = parse(f); if (m) { sent.push(m); log.push({ out: true, m }); } });
    ws.on('framereceived', (f) => { const m = parse(f); if (m) log.push({ out: false, m }); });
  });
  sent.log = log;
  return sent;
}

// Blocks requested again while an earlier request for them had no final answer (status
// cached/skipped/error) and was not evicted. Asking again after an eviction is correct.
function doubleRequests(log) {
  const outstanding = new Set();
  const doubled = [];
  for (const { out, m } of log) {
    if (out && m.type === 'synthesize') {
      for (const i of m.block_indices) { if (outstanding.has(i)) doubled.push(i); outstanding.add(i); }
    } else if (!out && m.type === 'status' && ['cached', 'skipped', 'error'].includes(m.status)) {
      outstanding.delete(m.block_idx);
    } else if (!out && m.type === 'evicted') {
      for (const i of m.block_indices) outstanding.delete(i);
    }
  }
  return doubled;
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
  // frames reach the test as events, not in step with the page state: wait for them, and take
  // the first request after the move (later refills need not include 45)
  const moved = await waitFor(() => sent.findIndex((m) => m.type === 'cursor_moved' && m.cursor === 45) + 1, { message: 'cursor_moved sent' });
  const req = await waitFor(() => sent.slice(moved).find((m) => m.type === 'synthesize'), { message: 'synthesize after the move' });
  assert.ok(req.block_indices.includes(45) && req.cursor === 45, JSON.stringify(req));
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  const s = await waitFor(async () => { const x = await playerState(page); return x.currentTime > 0.3 && !x.paused && x; }, { message: 'sound at 45' });
  assert.equal(s.textIdx, 45);
  assert.equal(await page.locator('.doc-text [aria-current="true"]').count(), 1);
  // the progress cell, from the same snapshot (a later read may already be in block 46)
  assert.equal(s.cellIdx, 45);
  assert.equal(s.states[45], 'cached');

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
  // no block was requested twice while its request was outstanding (counting every request
  // would fail when blocks queued before the seek to 45 were evicted and are needed again)
  assert.deepEqual(doubleRequests(sent.log), [], JSON.stringify(sent.filter((x) => x.type === 'synthesize')));
  assert.deepEqual(page.errors.filter((e) => !/404/.test(e)), []);
});
