// Journey (issue 16): blocks heard before show as ready after a reload, before Play is
// pressed — the page asks the server what it has (query_states) without asking for work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, paragraphs, playerState, waitFor } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

test('after a reload the cells of audio the server has are ready at once, and nothing is synthesized', async () => {
  const doc = await createDoc(server, { content: paragraphs(40), title: 'Reload journey' });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  const made = await waitFor(async () => {
    const s = await playerState(page);
    return s.states.slice(0, 6).every((x) => x === 'cached') && s;
  }, { message: 'the first blocks made', timeout: 30000 });
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  const cached = made.states.map((x, i) => (x === 'cached' ? i : -1)).filter((i) => i >= 0);

  const sent = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => { try { sent.push(JSON.parse(f.payload)); } catch { /* binary */ } }));
  await page.reload();
  const s = await waitFor(async () => {
    const x = await playerState(page);
    return cached.every((i) => x.states[i] === 'cached') && x;
  }, { message: 'the blocks made before shown ready after the reload' });
  assert.equal(s.label, 'Play', 'still stopped: nothing was played');
  assert.ok(sent.some((m) => m.type === 'query_states'), 'the page asked what exists');
  assert.equal(sent.filter((m) => m.type === 'synthesize').length, 0, 'and asked for no work');
  assert.deepEqual(page.errors, []);
});
