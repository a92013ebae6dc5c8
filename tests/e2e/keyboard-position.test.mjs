// Journey: keyboard shortcuts and the help overlay, and the reading position remembered
// per document (in the page and on the server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, paragraphs, playerState, waitFor } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

test('shortcuts, help overlay, speed, mute, remembered position', async () => {
  const doc = await createDoc(server, { content: paragraphs(15), title: 'Keys journey' });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.locator('.doc-text [data-block-idx]').first().waitFor();
  await page.keyboard.press('?');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'hidden' });

  await page.keyboard.press('j');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('j');
  await page.keyboard.press('ArrowLeft');
  await waitFor(async () => (await playerState(page)).textIdx === 2, { message: 'cursor 2' });
  assert.equal((await playerState(page)).label, 'Play', 'moving while stopped does not start playback');

  await page.keyboard.press('+');
  await page.keyboard.press('+');
  const speed = () => page.getByRole('combobox', { name: 'Speed' }).inputValue();
  await waitFor(async () => (await speed()) === '1.5', { message: 'speed 1.5' });
  assert.equal(await page.evaluate(() => document.querySelector('audio').playbackRate), 1.5);
  assert.equal(await page.evaluate(() => document.querySelector('audio').preservesPitch), true);
  await page.keyboard.press('-');
  await waitFor(async () => (await speed()) === '1.25', { message: 'speed 1.25' });
  await page.keyboard.press('m');
  assert.equal(await page.evaluate(() => document.querySelector('audio').muted), true);
  await page.getByRole('button', { name: 'Unmute' }).waitFor();
  await page.keyboard.press('m');

  await page.keyboard.press(' ');
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  assert.equal((await playerState(page)).textIdx, 2);
  await page.keyboard.press(' ');
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();

  // the server learns the position (debounced PATCH)
  await waitFor(async () => {
    const d = await (await fetch(`${server.url}/v1/documents/${doc.id}`)).json();
    return d.last_block_idx === 2;
  }, { message: 'position saved on the server' });
  await page.reload();
  await waitFor(async () => (await playerState(page)).textIdx === 2, { message: 'position restored' });
  await waitFor(async () => (await speed()) === '1.25', { message: 'speed remembered' });

  // a fresh browser (no localStorage) gets it from the server
  const other = await newPage(browser, server);
  await other.goto(`${server.url}/#/doc/${doc.id}`);
  await waitFor(async () => (await playerState(other)).textIdx === 2, { message: 'position from the server' });
});
