// Journey (issue 14): the sleep timer in the controls. "End of chapter" plays the chapter to
// its end and pauses on the next chapter's heading, ready to go on from there. A minute timer
// shows the time left and pauses when it runs out: chosen in the select, then shortened to a
// few seconds through the engine (window.recite.engine.setSleep takes any minutes; the select
// offers 15 to 60), with the page's real clock — no faked time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, paragraphs } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

const snapshot = (page) => page.evaluate(() => {
  const s = window.recite.engine.getSnapshot();
  return { playState: s.playState, cursor: s.cursor, sleep: s.sleep, paused: document.querySelector('audio').paused };
});

async function open(page, doc) {
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  await page.waitForFunction(() => window.recite.ws.state === 'open');
  // every block the player starts, in order
  await page.evaluate(() => {
    window.__starts = [];
    window.recite.engine.subscribe((s) => {
      if (s.playState === 'playing' && window.__starts.at(-1) !== s.cursor) window.__starts.push(s.cursor);
    });
  });
}

test('sleep timer "End of chapter" pauses where the next chapter starts', async () => {
  const doc = await createDoc(server, {
    title: 'Sleep journey', format: 'markdown',
    content: '# One\n\nThe first chapter opens.\n\nIt ends here.\n\n# Two\n\nThe second chapter opens.\n\n' +
      'It goes on.\n\nAnd on.\n\n# Three\n\nThe last.',
  });
  const page = await newPage(browser, server);
  await open(page, doc);
  const two = await page.evaluate(() => Number(document.querySelectorAll('.doc-text h1')[1]
    .querySelector('[data-block-idx]').dataset.blockIdx));
  assert.ok(two >= 3, `chapter two starts at block ${two}`);
  const sleep = page.getByRole('combobox', { name: 'Sleep timer' });
  await sleep.selectOption('chapter');
  assert.deepEqual((await snapshot(page)).sleep, { mode: 'chapter' });

  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.waitForFunction(() => ['paused', 'stopped'].includes(window.recite.engine.getSnapshot().playState),
    null, { timeout: 60000 });
  const s = await snapshot(page);
  assert.equal(s.playState, 'paused', 'paused, not played on to the end');
  assert.equal(s.cursor, two, 'on the next chapter\'s heading');
  assert.equal(s.paused, true);
  assert.equal(s.sleep, null, 'the timer is spent');
  assert.equal(await sleep.inputValue(), 'off');
  const starts = await page.evaluate(() => window.__starts);
  assert.deepEqual(starts, [...Array(two).keys()], 'the whole first chapter, nothing of the second');
  assert.equal(await page.locator('.doc-text [aria-current="true"]').getAttribute('data-block-idx'), String(two));
  // Play goes on from there
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.waitForFunction((i) => window.__starts.includes(i), two);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  assert.deepEqual(page.errors, []);
});

test('a minute sleep timer shows the time left and pauses when it runs out', async () => {
  const doc = await createDoc(server, { title: 'Sleep minutes', content: paragraphs(30, 12) });
  const page = await newPage(browser, server);
  await open(page, doc);
  const sleep = page.getByRole('combobox', { name: 'Sleep timer' });
  await sleep.selectOption('15');
  const left = page.getByLabel('Sleep timer: time left');
  await left.waitFor();
  assert.match(await left.textContent(), /^1[45]:\d\d$/);
  assert.equal((await snapshot(page)).sleep.mode, 15);

  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  await page.evaluate(() => window.recite.engine.setSleep(0.05));   // 3 s from now
  await page.waitForFunction(() => window.recite.engine.getSnapshot().playState !== 'playing', null, { timeout: 30000 });
  const s = await snapshot(page);
  assert.equal(s.playState, 'paused');
  assert.equal(s.paused, true);
  assert.ok(s.cursor < 29, `paused mid-document (block ${s.cursor})`);
  assert.equal(await sleep.inputValue(), 'off');
  assert.equal(await left.isHidden(), true);
  assert.deepEqual(page.errors, []);
});
