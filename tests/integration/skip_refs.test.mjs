// `skip_references` on synthesize (issue 14): citation markers, footnote references and bare
// URLs are shown but not spoken. The variant is what is spoken (shorter audio, its own hash),
// word timings still point into the block's shown text, a block that is only a URL is
// `skipped`, and a bad value is an error that leaves the connection open.
// Every status says which setting it answers for (`skip_references`), so a page that has just
// flipped the toggle never plays the other setting's late audio; in browser mode the server
// hands the page the text to speak (`spoken_text`) and hashes an upload sent with
// X-Skip-References: true over that same text.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { itest, synth, run, BIN } from './harness.mjs';

const DOC = 'The lighthouse stood at the edge of the bay [12], white against the sky [3, 4].\n\n' +
  'https://example.org/a/very/long/address/that/nobody/wants/to/hear\n\n' +
  'Plain words only here.';

itest('skip_references: markers and URLs are not spoken; timings point into the shown text', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const d = await s.createDoc(DOC, 'text');
  const doc = await s.getDoc(d.id);
  const c = await h.ws(s);

  c.send(synth(d.id, [0, 1, 2]));
  const all = await c.waitFinal(d.id, [0, 1, 2]);
  let from = c.mark();
  c.send(synth(d.id, [0, 1, 2], { skip_references: true }));
  const skip = await c.waitFinal(d.id, [0, 1, 2], { from });
  const last = (m, i) => m.get(i).at(-1);

  // block 0: a different variant, shorter, with every word inside the text and none in a marker
  assert.equal(last(all, 0).status, 'cached');
  assert.equal(last(skip, 0).status, 'cached');
  assert.notEqual(last(skip, 0).audio_url, last(all, 0).audio_url);
  assert.ok(last(skip, 0).duration_ms < last(all, 0).duration_ms, 'the markers took time to say');
  const text = doc.blocks[0].text;
  const words = last(skip, 0).word_timings.map((w) => text.slice(w.offset, w.offset + w.length));
  assert.ok(words.includes('lighthouse') && words.includes('sky'), words.join('|'));
  assert.ok(words.every((w) => !/[[\]0-9]/.test(w)), `no marker spoken: ${words.join('|')}`);
  // block 1 is only a URL: nothing to say
  assert.equal(last(all, 1).status, 'cached');
  assert.equal(last(skip, 1).status, 'skipped');
  // block 2 has nothing to skip: the very same audio
  assert.equal(last(skip, 2).audio_url, last(all, 2).audio_url);
  // each answer names the setting it is for
  assert.ok([...all.values()].flat().every((m) => m.skip_references === false));
  assert.ok([...skip.values()].flat().every((m) => m.skip_references === true));

  from = c.mark();
  c.send(synth(d.id, [0], { skip_references: 'yes' }));
  const err = await c.waitFor((m) => m.type === 'error', undefined, from);
  assert.match(err.error, /skip_references/);
  c.send(synth(d.id, [2], { skip_references: false }));
  const again = await c.waitFinal(d.id, [2], { from });
  assert.equal(last(again, 2).audio_url, last(all, 2).audio_url, 'the connection still serves');
});

itest('flipping the setting evicts the queued jobs of the one left; the rest say which setting they are for', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const notes = Array.from({ length: 6 }, (_, i) => `Sentence ${i} carries a note [${i + 1}] at its end.`);
  const d = await s.createDoc([...notes, 'Plain words only here.'].join('\n\n'), 'text');
  const all = [0, 1, 2, 3, 4, 5, 6];
  const c = await h.ws(s);
  // the page asks, then the toggle flips before one worker can make much of it
  c.send(synth(d.id, all));
  c.send(synth(d.id, all, { skip_references: true }));
  const cachedAs = (idx, skip) => c.statuses(d.id).find((m) => m.block_idx === idx && m.status === 'cached' && m.skip_references === skip);
  await c.waitUntil(() => all.every((i) => cachedAs(i, true)), undefined, 'every block for skipping');
  await c.barrier();
  const evicted = c.messages.filter((m) => m.type === 'evicted');
  assert.ok(evicted.length >= 1, 'the old setting\'s queued jobs were dropped');
  assert.ok(evicted.every((m) => m.skip_references === false), 'named as the old setting\'s');
  const dropped = new Set(evicted.flatMap((m) => m.block_indices));
  assert.ok(!dropped.has(6), 'block 6 has no references: its job is the new setting\'s too');
  for (const i of [0, 1, 2, 3, 4, 5]) {
    const late = cachedAs(i, false);
    assert.ok(!(late && dropped.has(i)), `block ${i}: evicted or finished, not both`);
    if (late) assert.ok(late.duration_ms > cachedAs(i, true).duration_ms, 'the late one says the marker');
    if (late) assert.notEqual(late.audio_url, cachedAs(i, true).audio_url, 'so it must be told apart');
  }
  assert.ok(c.statuses(d.id).every((m) => typeof m.skip_references === 'boolean'), 'every status says');
  assert.equal(cachedAs(6, true).audio_url, (await (async () => {
    const c2 = await h.ws(s);
    c2.send(synth(d.id, [6]));
    return (await c2.waitFinal(d.id, [6])).get(6).at(-1);
  })()).audio_url, 'one audio for a block with nothing to skip');
});

async function sayWav(h, text) {
  const file = join(await h.tmp(), 'say.wav');
  const r = await run(BIN, ['say', '-o', file, text]);
  assert.equal(r.code, 0, r.stderr);
  return readFile(file);
}

itest('browser mode: the page is given the text to speak and its upload is hashed with the same setting', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(DOC, 'text');
  const text = (await s.getDoc(d.id)).blocks[0].text;
  const c = await h.ws(s);
  const ask = async (skip) => {
    const from = c.mark();
    c.send(synth(d.id, [0, 1], { model: 'browser', synthesis_mode: 'browser', skip_references: skip }));
    const hist = await c.waitUntil(() => {
      const m = c.history(d.id, { from });
      return m.get(0) && m.get(1) && m;
    });
    return [hist.get(0).at(-1), hist.get(1).at(-1)];
  };
  const [local, url] = await ask(true);
  assert.equal(local.status, 'synthesize_locally');
  assert.equal(local.skip_references, true);
  assert.equal(local.spoken_text.length, text.length, 'same UTF-16 length: word offsets are the shown text\'s');
  assert.ok(!local.spoken_text.includes('[12]') && local.spoken_text.includes('lighthouse'), local.spoken_text);
  assert.equal(url.status, 'skipped', 'a block that is only a URL has nothing to say');
  const [plainLocal] = await ask(false);
  assert.equal(plainLocal.spoken_text, text);

  const headers = { 'X-Document-Id': d.id, 'X-Block-Idx': '0', 'X-Model': 'browser', 'X-Voice': 'en-us',
    'Content-Type': 'audio/wav' };
  const body = await sayWav(h, local.spoken_text);
  const bad = await s.post('/v1/audio', { body, headers: { ...headers, 'X-Skip-References': 'yes' } });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /X-Skip-References/);
  const up = await s.post('/v1/audio', { body, headers: { ...headers, 'X-Skip-References': 'true' } });
  assert.equal(up.status, 201, up.text);
  const [mine] = await ask(true);
  assert.equal(mine.status, 'cached');
  assert.equal(mine.audio_url, up.json.audio_url, 'the upload is the skipping variant');
  const [other] = await ask(false);
  assert.equal(other.status, 'synthesize_locally', 'and not the one that says the markers');
});
