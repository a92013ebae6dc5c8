// Journey (issue 14): Play starts on the first block as soon as it is there — before block 3
// is cached — and at every seam the next block's audio was already loaded when it started.
// Only the order of events is asserted, never a duration: the WebSocket is routed through
// the test, which holds the `cached` statuses of blocks 1-3 until the first sound.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, recordPlayLabels, waitForPlayerState, playerState } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

const HELD = new Set([1, 2, 3]);

test('first block plays before block 3 is cached; the next block is preloaded at every seam', async () => {
  const doc = await createDoc(server, {
    title: 'Instant start',
    content: [
      'The first block is a sentence of a few seconds, long enough to listen to.',
      'Block one follows it.', 'Block two follows.', 'Block three follows.',
      'Block four.', 'Block five.',
    ].join('\n\n'),
  });
  const page = await newPage(browser, server);
  const held = [];
  let holding = true;
  let toPage = null;
  await page.routeWebSocket(/\/v1\/ws\/tts/, (ws) => {
    const upstream = ws.connectToServer();
    toPage = ws;
    ws.onMessage((m) => upstream.send(m));
    upstream.onMessage((m) => {
      const msg = JSON.parse(m);
      if (holding && msg.type === 'status' && msg.status === 'cached' && HELD.has(msg.block_idx)) held.push(m);
      else ws.send(m);
    });
  });
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  const play = page.getByRole('button', { name: 'Play', exact: true });
  await play.waitFor();
  await page.waitForFunction(() => window.recite.ws.state === 'open');
  // the page's own log of events, in order
  await page.evaluate(() => {
    const log = (window.__events = []);
    window.recite.ws.on('message', (m) => { if (m.type === 'status' && m.status === 'cached') log.push(`cached ${m.block_idx}`); });
    const a = window.recite.audio;
    const playAudio = a.play.bind(a);
    a.play = (url, opts) => { log.push(`start ${a.preloaded(url) ? 'preloaded' : 'loading'}`); return playAudio(url, opts); };
    const poll = () => {
      const el = document.querySelector('audio');
      if (el.currentTime > 0 && !el.paused) log.push('sound');
      else requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  });
  const labels = await recordPlayLabels(page);
  await play.click();
  await page.waitForFunction(() => window.__events.includes('sound'));
  let events = await page.evaluate(() => window.__events);
  assert.ok(events.indexOf('cached 0') < events.indexOf('sound'), events.join());
  assert.ok(!events.includes('cached 3'), `playing before block 3 is cached: ${events.join()}`);
  assert.deepEqual((await labels()).slice(0, 3), ['Play', 'Cancel', 'Pause'], 'Buffering, then Playing');

  // let blocks 1-3 arrive, and listen past two seams
  holding = false;
  for (const m of held) toPage.send(m);
  await waitForPlayerState(page, (s) => s.textIdx >= 3, null, { timeout: 60000 });
  events = await page.evaluate(() => window.__events);
  const starts = events.filter((e) => e.startsWith('start'));
  assert.ok(starts.length >= 3, events.join());
  assert.deepEqual(starts.slice(1), starts.slice(1).map(() => 'start preloaded'),
    `every block after the first was loaded before the one before it ended: ${events.join()}`);
  assert.equal((await playerState(page)).audioCount, 1, 'one <audio> in the page');
  assert.deepEqual(page.errors, []);
});
