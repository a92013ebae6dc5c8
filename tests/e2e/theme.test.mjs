// Journey: the theme follows the system (prefers-color-scheme) until the reader picks one
// with the toggle; the choice is remembered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

const theme = (page) => page.evaluate(() => document.documentElement.dataset.theme);
const bg = (page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);

test('system theme, toggle, remembered', async () => {
  const page = await newPage(browser, server, { colorScheme: 'dark' });
  await page.goto(`${server.url}/#/`);
  await page.getByRole('button', { name: 'Switch to light theme' }).waitFor();
  assert.equal(await theme(page), 'dark');
  const darkBg = await bg(page);
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
  assert.equal(await theme(page), 'light');
  assert.notEqual(await bg(page), darkBg);
  await page.reload();
  await page.getByRole('button', { name: 'Switch to dark theme' }).waitFor();
  assert.equal(await theme(page), 'light', 'the choice wins over the system setting');

  const light = await newPage(browser, server, { colorScheme: 'light' });
  await light.goto(`${server.url}/#/`);
  await light.getByRole('button', { name: 'Switch to dark theme' }).waitFor();
  assert.equal(await theme(light), 'light');
});
