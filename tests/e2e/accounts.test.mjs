// Journey (--auth, SPEC section 7): the sign-in screen; continue as a guest, paste a
// document and play it; sign out; sign in with a user's token (a bad one is refused) and
// see only that user's documents and their quota; a spent quota stops playback and says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServer, launchBrowser, newPage, waitFor, waitForPlayerState } from './harness.mjs';

let server, browser, dataDir, token;
before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'recite-e2e-auth-'));
  token = execFileSync(BIN, ['user', 'add', 'alice', '--data', dataDir], { encoding: 'utf8' }).trim();
  server = await startServer({ dataDir, args: ['--auth', '--quota-chars', '200'] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('guest -> paste -> play; sign out; sign in with a token', async () => {
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/`);
  await page.getByRole('heading', { name: 'Sign in to recite' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Library' }).isVisible(), false);

  // a guest pastes a document and plays it
  await page.getByRole('button', { name: 'Continue as guest' }).click();
  await page.getByText('Nothing here yet.').waitFor();
  assert.equal(await page.locator('.account-name').textContent(), 'Guest');
  await page.getByRole('link', { name: 'New document' }).first().click();
  await page.getByLabel('Text', { exact: true }).fill('A guest reads this.\n\nA second short block.');
  await page.getByRole('button', { name: 'Create and open' }).click();
  await page.waitForURL(/#\/doc\/[^/]+$/);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await waitForPlayerState(page, (s) => !s.paused && s.currentTime > 0.1);
  assert.match(await page.locator('.account-quota').textContent(), /characters left/);

  // sign out: back to the sign-in screen, and the credential is gone
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to recite' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('recite.guest')), null);

  // a wrong token is refused in place; the right one signs alice in
  await page.getByLabel('API token').fill(`rct_${'0'.repeat(64)}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Nothing here yet.').waitFor();   // the guest's document is not hers
  assert.equal(await page.locator('.account-name').textContent(), 'alice');
  assert.equal(await page.evaluate(() => localStorage.getItem('recite.token')), token);
  // a reload keeps her signed in
  await page.reload();
  await page.getByText('Nothing here yet.').waitFor();
  assert.deepEqual(page.errors.filter((e) => !/401|404/.test(e)), []);
});

test('a spent quota stops playback with the reason', async () => {
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/`);
  await page.evaluate((t) => localStorage.setItem('recite.token', t), token);
  // 3 blocks of ~90 characters against a quota of 200: the third cannot be made
  const block = (i) => `Block ${i} is a sentence long enough to use a good part of the small quota that alice has.`;
  const res = await fetch(`${server.url}/v1/documents`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ content: [0, 1, 2, 3].map(block).join('\n\n'), format: 'text', title: 'Quota journey' }),
  });
  const doc = await res.json();
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.reload();   // the same page with a credential now
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  const banner = page.getByText(/quota of 200 characters/);
  await banner.waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();   // stopped
  assert.match(await banner.textContent(), /resets at/);
  // the blocks queued before the quota ran out are made and counted; the account box shows it
  const me = () => fetch(`${server.url}/v1/me`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.json());
  await waitFor(async () => (await me()).used_chars >= 200, { timeout: 60_000, message: 'the quota counted' });
  await page.reload();
  await page.locator('.account-quota', { hasText: '0 of 200 characters left' }).waitFor();
});

test('a token stored while the first sign-in check is on its way is kept, not thrown away', async () => {
  const page = await newPage(browser, server);
  // hold the first /v1/me (sent without a credential) until a token has been stored
  let release;
  const held = new Promise((r) => { release = r; });
  let first = true;
  await page.route('**/v1/me', async (route) => {
    if (first) { first = false; await held; }
    await route.continue();
  });
  await page.goto(`${server.url}/`);
  await page.evaluate((t) => localStorage.setItem('recite.token', t), token);
  release();
  // the refused check was made without this token: the page signs in with it instead
  await page.locator('.account-name', { hasText: 'alice' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('recite.token')), token);
});
