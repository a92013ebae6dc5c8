// Deduplication (SPEC section 4): audio is keyed by its variant (text, model, voice), so a
// text is synthesized once however many connections, blocks or documents ask for it, and
// a variant in flight is never queued twice: later requesters are told when it finishes.
import assert from 'node:assert/strict';
import { itest, synth, range, paragraphs } from './harness.mjs';

// One long block keeps the single worker busy while the requests under test arrive, so they
// find their job queued (not yet cached): the in-flight path is what gets exercised.
const FILLER = 'This long paragraph exists only to keep the single worker busy for a moment, ' +
  'while other readers ask for the same new block at the same time; it goes on, and on, ' +
  'about lighthouses, harbours, the weather at sea, and the patience of keepers.';

async function occupyWorker(h, s) {
  const f = await s.createDoc(FILLER);
  const c0 = await h.ws(s);
  c0.send(synth(f.id, [0]));
  await c0.waitFor((m) => m.type === 'status' && m.status === 'processing');
  return { c0, f };
}

itest('two connections asking for the same new block at once share one synthesis', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc('Shared first block.\n\nShared second block.\n\nShared third block.');
  const [c1, c2] = [await h.ws(s), await h.ws(s)];
  const { c0, f } = await occupyWorker(h, s);

  c1.send(synth(d.id, [0, 1, 2]));
  c2.send(synth(d.id, [0, 1, 2]));
  const [h1, h2] = await Promise.all([c1.waitFinal(d.id, [0, 1, 2]), c2.waitFinal(d.id, [0, 1, 2])]);
  await c0.waitFinal(f.id, [0]);

  for (const idx of [0, 1, 2]) {
    assert.ok(['queued', 'processing'].includes(h2.get(idx)[0].status),
      `block ${idx}: the second requester joined the job in flight (first status ${h2.get(idx)[0].status})`);
    const a = h1.get(idx).at(-1), b = h2.get(idx).at(-1);
    assert.equal(a.status, 'cached');
    assert.equal(b.status, 'cached');
    assert.equal(a.audio_url, b.audio_url, `block ${idx}: same audio for both`);
  }
  const m = await s.metrics();
  assert.equal(m.recite_syntheses_total, 1 + 3, 'one engine run per distinct text (plus the filler)');
  assert.equal(m.recite_jobs_queued, 0);
});

itest('the same paragraph in two documents, or twice in one, is synthesized once', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const shared = 'The same paragraph appears in both documents.';
  const a = await s.createDoc(`${shared}\n\nOnly in the first document.`);
  const b = await s.createDoc(`Only in the second document.\n\n${shared}\n\n${shared}`);
  const [c1, c2] = [await h.ws(s), await h.ws(s)];
  const { c0, f } = await occupyWorker(h, s);

  c1.send(synth(a.id, [0, 1]));
  c2.send(synth(b.id, [0, 1, 2]));
  const [ha, hb] = await Promise.all([c1.waitFinal(a.id, [0, 1]), c2.waitFinal(b.id, [0, 1, 2])]);
  await c0.waitFinal(f.id, [0]);

  const url = ha.get(0).at(-1).audio_url;
  assert.equal(ha.get(0).at(-1).status, 'cached');
  assert.equal(hb.get(1).at(-1).status, 'cached');
  assert.equal(hb.get(2).at(-1).status, 'cached');
  assert.equal(hb.get(1).at(-1).audio_url, url, 'same text in another document: same audio');
  assert.equal(hb.get(2).at(-1).audio_url, url, 'same text twice in a document: same audio');
  assert.notEqual(ha.get(1).at(-1).audio_url, hb.get(0).at(-1).audio_url);
  for (const idx of [1, 2])
    assert.notEqual(hb.get(idx)[0].status, 'cached', `document B block ${idx} was asked while in flight`);

  const m = await s.metrics();
  assert.equal(m.recite_syntheses_total, 1 + 3, 'three distinct texts, three engine runs (plus the filler)');
  assert.equal((await s.get(url)).status, 200);
});

itest('a different voice is a different variant', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const d = await s.createDoc('Guten Tag, this sentence is read twice.');
  const c = await h.ws(s);
  c.send(synth(d.id, [0]));
  const en = (await c.waitFinal(d.id, [0], { voice: 'en-us' })).get(0).at(-1);
  const from = c.mark();
  c.send(synth(d.id, [0], { voice: 'de' }));
  const de = (await c.waitFinal(d.id, [0], { voice: 'de', from })).get(0);
  assert.notEqual(de[0].status, 'cached', 'a voice never heard before is not a cache hit');
  assert.equal(de.at(-1).status, 'cached');
  assert.equal(de.at(-1).voice, 'de');
  assert.notEqual(de.at(-1).audio_url, en.audio_url);
  assert.equal((await s.metrics()).recite_syntheses_total, 2);
});

itest('many readers of the same blocks at once: one synthesis per block, one audio each', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const d = await s.createDoc(paragraphs(6, 'crowd'));
  const clients = [];
  for (let i = 0; i < 10; i++) clients.push(await h.ws(s));
  // everyone asks at once, in different orders and with different cursors
  clients.forEach((c, i) => c.send(synth(d.id, i % 2 ? [5, 4, 3, 2, 1, 0] : range(0, 6), { cursor: i % 6 })));
  const hists = await Promise.all(clients.map((c) => c.waitFinal(d.id, range(0, 6))));
  for (const idx of range(0, 6)) {
    const urls = new Set(hists.map((hh) => hh.get(idx).at(-1).audio_url));
    assert.equal(urls.size, 1, `block ${idx}: everyone got the same audio`);
    assert.ok(hists.every((hh) => hh.get(idx).at(-1).status === 'cached'));
  }
  const m = await s.metrics();
  assert.equal(m.recite_syntheses_total, 6);
  assert.equal(m.recite_jobs_queued + m.recite_jobs_running, 0);
});
