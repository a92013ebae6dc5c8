// Journey (issue 14): "Skip citations and URLs when reading" in the reader header. On (the
// default) the page plays, for a block with a citation marker, the audio that does not say
// "[12]": shorter, its words all outside the marker. Turned off while playing, the page plays
// the block again with the marker spoken — never the other setting's audio. With a voice of
// the page's own (browser synthesis) the page speaks the server's spoken_text: the upload is
// the skipping variant and its words leave the marker out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, createDoc, waitFor } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.cleanup(); });

const FIRST = 'The lighthouse stood at the edge of the bay [12], white against the sky.';

test('skip toggle: on plays the audio without "[12]", off plays the one that says it', async () => {
  const doc = await createDoc(server, {
    title: 'Skip journey',
    content: [FIRST, 'A second block follows it here.', 'A third one.', 'And the last.'].join('\n\n'),
  });
  const page = await newPage(browser, server);
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  const play = page.getByRole('button', { name: 'Play', exact: true });
  await play.waitFor();
  await page.waitForFunction(() => window.recite.ws.state === 'open');
  // the page's own record: block 0's cached statuses, and every url the player starts
  await page.evaluate(() => {
    window.__cached = [];
    window.__played = [];
    window.recite.ws.on('message', (m) => {
      if (m.type === 'status' && m.status === 'cached' && m.block_idx === 0) window.__cached.push(m);
    });
    const a = window.recite.audio;
    const playAudio = a.play.bind(a);
    a.play = (url, opts) => { window.__played.push(url); return playAudio(url, opts); };
  });
  const toggle = page.getByRole('checkbox', { name: /Skip citations/ });
  assert.equal(await toggle.isChecked(), true, 'on by default');

  // the block 0 audio the page starts, and the status that named it
  const started = async (skip) => {
    const handle = await page.waitForFunction((s) => {
      const st = window.__cached.find((m) => m.skip_references === s);
      return st && window.__played.includes(st.audio_url) && st;
    }, skip, { timeout: 30000 });
    return handle.jsonValue();
  };
  const words = (st) => st.word_timings.map((w) => FIRST.slice(w.offset, w.offset + w.length));

  await play.click();
  const on = await started(true);
  assert.ok(words(on).includes('lighthouse'), words(on).join('|'));
  assert.ok(words(on).every((w) => !w.includes('12')), `"[12]" not spoken: ${words(on).join('|')}`);
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();

  // off while playing: block 0 again, now with the marker
  await page.evaluate(() => { window.__played.length = 0; });
  await toggle.uncheck();
  const off = await started(false);
  assert.notEqual(off.audio_url, on.audio_url);
  assert.ok(off.duration_ms > on.duration_ms, `"twelve" takes time: ${off.duration_ms} vs ${on.duration_ms} ms`);
  assert.ok(words(off).some((w) => w.includes('12')), `"[12]" spoken: ${words(off).join('|')}`);
  const played = await page.evaluate(() => window.__played);
  assert.ok(!played.includes(on.audio_url), 'the skipping audio is not played once the toggle is off');
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  assert.deepEqual(page.errors, []);
});

test('skip toggle with a browser voice: the page does not say "[12]" and uploads the skipping variant', async () => {
  const doc = await createDoc(server, { title: 'Skip in the page', content: [FIRST, 'A second block.'].join('\n\n') });
  const page = await newPage(browser, server);
  const uploads = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/v1/audio')) uploads.push(r); });
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  const picker = page.getByRole('combobox', { name: 'Voice' });
  await waitFor(() => picker.evaluate((s) => [...s.options].some((o) => o.value === 'browser\u241fen-us')),
    { timeout: 30000, message: 'browser voices listed' });
  await picker.selectOption('browser\u241fen-us');
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  const first = await waitFor(async () => {
    for (const r of uploads) if (r.headers()['x-block-idx'] === '0' && (await r.response())?.status() === 201) return r;
    return null;
  }, { timeout: 60000, message: 'block 0 uploaded' });
  assert.equal(first.headers()['x-skip-references'], 'true');
  const stored = (await (await first.response()).json()).audio_url;
  // the server's answer for the skipping setting is that upload, with the page's word timings
  const st = await page.evaluate(async (id) => {
    const ws = window.recite.ws;
    const got = new Promise((res) => ws.on('message', (m) => {
      if (m.type === 'status' && m.block_idx === 0 && m.status === 'cached' && m.skip_references) res(m);
    }));
    ws.send({ type: 'query_states', document_id: id, block_indices: [0], model: 'browser', voice: 'en-us', skip_references: true });
    return got;
  }, doc.id);
  assert.equal(st.audio_url, stored);
  const words = st.word_timings.map((w) => FIRST.slice(w.offset, w.offset + w.length));
  assert.ok(words.includes('lighthouse'), words.join('|'));
  assert.ok(words.every((w) => !w.includes('12')), `"[12]" not spoken in the page: ${words.join('|')}`);
  assert.deepEqual(page.errors, []);
});
