// `skip_references` on synthesize (issue 14): citation markers, footnote references and bare
// URLs are shown but not spoken. The variant is what is spoken (shorter audio, its own hash),
// word timings still point into the block's shown text, a block that is only a URL is
// `skipped`, and a bad value is an error that leaves the connection open.
import assert from 'node:assert/strict';
import { itest, synth } from './harness.mjs';

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

  from = c.mark();
  c.send(synth(d.id, [0], { skip_references: 'yes' }));
  const err = await c.waitFor((m) => m.type === 'error', undefined, from);
  assert.match(err.error, /skip_references/);
  c.send(synth(d.id, [2], { skip_references: false }));
  const again = await c.waitFinal(d.id, [2], { from });
  assert.equal(last(again, 2).audio_url, last(all, 2).audio_url, 'the connection still serves');
});
