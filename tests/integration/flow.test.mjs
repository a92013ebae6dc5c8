// The whole reading flow (SPEC sections 4-6): a document, a synthesize request, every
// block going queued -> processing -> cached, and the audio served with the right headers,
// decodable, as long as it says; then the cache answering a new connection at once.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { itest, synth, probe, decodes, range } from './harness.mjs';

const DOC = '# A Short Story\n\nThe lighthouse keeper climbed the stairs.\n\n' +
  'At the top, the lamp was already burning.\n\nShe smiled, and went back down.';
const AUDIO_URL = /^\/v1\/audio\/[0-9a-f]{64}$/;

/** Requests blocks on a new connection and waits until each has a final status. */
async function synthesizeAll(h, s, docId, indices) {
  const c = await h.ws(s);
  c.send(synth(docId, indices));
  const hist = await c.waitFinal(docId, indices);
  return { c, hist };
}

itest('every block goes queued -> processing -> cached, naming model and voice', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const d = await s.createDoc(DOC);
  const doc = await s.getDoc(d.id);
  assert.equal(d.block_count, 4);
  const c = await h.ws(s);
  // the server says nothing until asked
  await c.barrier();
  assert.deepEqual(c.messages.filter((m) => m.type !== 'error'), []);

  c.send(synth(d.id, [0, 1, 2, 3]));
  const hist = await c.waitFinal(d.id, [0, 1, 2, 3]);
  for (const [idx, list] of hist) {
    assert.deepEqual(list.map((m) => m.status), ['queued', 'processing', 'cached'], `block ${idx}`);
    for (const m of list) {
      assert.equal(m.type, 'status');
      assert.equal(m.document_id, d.id);
      assert.equal(m.model, 'espeak');
      assert.equal(m.voice, 'en-us');
    }
    const cached = list[2];
    assert.match(cached.audio_url, AUDIO_URL);
    assert.ok(Number.isInteger(cached.duration_ms) && cached.duration_ms > 300,
      `block ${idx}: a spoken sentence lasts, got ${cached.duration_ms} ms`);
    // word timings: inside the block's text, in order, each on a word
    const text = doc.blocks[idx].text;
    assert.ok(Array.isArray(cached.word_timings) && cached.word_timings.length >= 3, `block ${idx} word_timings`);
    let prev = -1;
    for (const w of cached.word_timings) {
      assert.ok(w.offset >= 0 && w.length > 0 && w.offset + w.length <= text.length, JSON.stringify(w));
      assert.ok(w.start_ms >= 0 && w.end_ms >= w.start_ms && w.end_ms <= cached.duration_ms + 50, JSON.stringify(w));
      assert.ok(w.offset > prev, 'words in order');
      prev = w.offset;
      assert.match(text.slice(w.offset, w.offset + w.length), /^\w/u, `word at ${w.offset} in "${text}"`);
    }
  }
  const urls = [...hist.values()].map((l) => l[2].audio_url);
  assert.equal(new Set(urls).size, 4, 'different text, different audio');
  assert.deepEqual([...hist.keys()].sort(), [0, 1, 2, 3]);
  // nothing else was said: exactly 3 statuses per block
  assert.equal(c.statuses().length, 12);
});

itest('word timings are UTF-16 offsets into the block text, whatever the script', async (t, h) => {
  const s = await h.start();
  const d = await s.createDoc('Déjà vu: naïve café owners smile. 😀 Emoji then words follow.');
  const text = (await s.getDoc(d.id)).blocks[0].text;
  const c = await h.ws(s);
  c.send(synth(d.id, [0]));
  const st = (await c.waitFinal(d.id, [0])).get(0).at(-1);
  assert.equal(st.status, 'cached');
  const words = st.word_timings.map((w) => text.slice(w.offset, w.offset + w.length));
  for (const w of ['naïve', 'café', 'owners', 'Emoji', 'follow'])
    assert.ok(words.includes(w), `"${w}" among the timed words ${JSON.stringify(words)}`);
  for (const w of words) assert.match(w, /^[\p{L}\p{Extended_Pictographic}]/u, `timed word "${w}"`);
});

itest('audio is served as Ogg Opus mono with its exact duration and cache headers', async (t, h) => {
  const s = await h.start();
  const dir = await h.tmp();
  const d = await s.createDoc(DOC);
  const { hist } = await synthesizeAll(h, s, d.id, [0, 1, 2, 3]);
  for (const [idx, list] of hist) {
    const st = list.at(-1);
    assert.equal(st.status, 'cached');
    const r = await s.get(st.audio_url);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'audio/ogg');
    assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(r.headers.get('accept-ranges'), 'bytes');
    assert.ok(r.headers.get('etag'), 'ETag');
    assert.equal(Number(r.headers.get('content-length')), r.body.length);
    const xdur = Number(r.headers.get('x-duration-ms'));
    assert.equal(xdur, st.duration_ms, 'X-Duration-Ms equals the status duration_ms');
    assert.equal(r.body.subarray(0, 4).toString('latin1'), 'OggS');

    const file = join(dir, `b${idx}.ogg`);
    await writeFile(file, r.body);
    const p = await probe(file);
    assert.equal(p.codec, 'opus');
    assert.equal(p.channels, 1, 'mono');
    assert.ok(Math.abs(p.duration_s * 1000 - xdur) <= 50,
      `block ${idx}: decoded ${p.duration_s * 1000} ms vs X-Duration-Ms ${xdur}`);
    assert.ok(await decodes(file), `block ${idx} decodes`);
  }
});

itest('audio supports Range, If-None-Match and rejects bad or unknown hashes', async (t, h) => {
  const s = await h.start();
  const d = await s.createDoc(DOC);
  const { hist } = await synthesizeAll(h, s, d.id, [1]);
  const url = hist.get(1).at(-1).audio_url;
  const full = await s.get(url);
  assert.equal(full.status, 200);
  const total = full.body.length;
  assert.ok(total > 200, `audio is ${total} bytes`);
  const etag = full.headers.get('etag');

  // HEAD: the same headers, the full length announced, and no body
  const head = await s.http('HEAD', url);
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get('content-length')), total);
  assert.equal(head.headers.get('etag'), etag);
  assert.equal(head.headers.get('x-duration-ms'), full.headers.get('x-duration-ms'));
  assert.equal(head.body.length, 0);

  const r1 = await s.get(url, { headers: { range: 'bytes=0-99' } });
  assert.equal(r1.status, 206);
  assert.equal(r1.headers.get('content-range'), `bytes 0-99/${total}`);
  assert.equal(r1.body.length, 100);
  assert.deepEqual(r1.body, full.body.subarray(0, 100));

  const r2 = await s.get(url, { headers: { range: 'bytes=-10' } });
  assert.equal(r2.status, 206);
  assert.equal(r2.headers.get('content-range'), `bytes ${total - 10}-${total - 1}/${total}`);
  assert.deepEqual(r2.body, full.body.subarray(total - 10));

  const r3 = await s.get(url, { headers: { range: `bytes=100-` } });
  assert.equal(r3.status, 206);
  assert.deepEqual(r3.body, full.body.subarray(100));

  const r4 = await s.get(url, { headers: { range: `bytes=${total}-` } });
  assert.equal(r4.status, 416);
  assert.equal(r4.headers.get('content-range'), `bytes */${total}`);

  const r5 = await s.get(url, { headers: { 'if-none-match': etag } });
  assert.equal(r5.status, 304);
  assert.equal(r5.body.length, 0);
  assert.equal(r5.headers.get('etag'), etag);
  const r6 = await s.get(url, { headers: { 'if-none-match': '"something-else"' } });
  assert.equal(r6.status, 200);
  assert.equal(r6.body.length, total);

  for (const bad of ['xyz', 'A'.repeat(64), 'a'.repeat(63), 'g'.repeat(64), 'a'.repeat(65)]) {
    const r = await s.get(`/v1/audio/${bad}`);
    assert.equal(r.status, 400, `hash ${bad}`);
    assert.equal(typeof r.json?.error, 'string');
  }
  const unknown = await s.get(`/v1/audio/${'0'.repeat(64)}`);
  assert.equal(unknown.status, 404);
  assert.equal(typeof unknown.json?.error, 'string');
});

itest('a new connection gets cached blocks at once, without synthesizing again', async (t, h) => {
  const s = await h.start();
  const d = await s.createDoc(DOC);
  const first = await synthesizeAll(h, s, d.id, [0, 1, 2, 3]);
  first.c.close();
  const before = await s.metrics();
  assert.equal(before.recite_syntheses_total, 4);

  const c = await h.ws(s);
  c.send(synth(d.id, [3, 2, 1, 0]));
  const hist = await c.waitFinal(d.id, [0, 1, 2, 3]);
  for (const [idx, list] of hist) {
    assert.deepEqual(list.map((m) => m.status), ['cached'], `block ${idx}: cached straight away`);
    assert.equal(list[0].audio_url, first.hist.get(idx).at(-1).audio_url);
    assert.equal(list[0].duration_ms, first.hist.get(idx).at(-1).duration_ms);
    assert.ok(Array.isArray(list[0].word_timings), 'a cache hit carries word timings too');
  }
  // the answers come in request order
  assert.deepEqual(c.statuses().map((m) => m.block_idx), [3, 2, 1, 0]);
  const after = await s.metrics();
  assert.equal(after.recite_syntheses_total, 4, 'no engine run for cached blocks');
  assert.equal(after.recite_cache_hits_total - before.recite_cache_hits_total, 4);
});

itest('out-of-range indices are skipped, in range ones still synthesized', async (t, h) => {
  const s = await h.start();
  const d = await s.createDoc(DOC);
  const c = await h.ws(s);
  c.send(synth(d.id, [-1, 0, d.block_count, 1000000]));
  const hist = await c.waitFinal(d.id, [-1, 0, d.block_count, 1000000]);
  for (const idx of [-1, d.block_count, 1000000]) {
    assert.deepEqual(hist.get(idx).map((m) => m.status), ['skipped'], `block ${idx}`);
    assert.equal(hist.get(idx)[0].model, 'espeak');
    assert.equal(hist.get(idx)[0].voice, 'en-us');
    assert.equal(hist.get(idx)[0].audio_url, undefined);
  }
  assert.equal(hist.get(0).at(-1).status, 'cached');
  assert.equal((await s.metrics()).recite_syntheses_total, 1);
});

itest('a block that yields no audio is skipped, not an error', async (t, h) => {
  const s = await h.start();
  const d = await s.createDoc('Real words first.\n\n...\n\n()', 'markdown');
  assert.equal(d.block_count, 3);
  const c = await h.ws(s);
  c.send(synth(d.id, [0, 1, 2]));
  const hist = await c.waitFinal(d.id, [0, 1, 2]);
  assert.equal(hist.get(0).at(-1).status, 'cached');
  for (const idx of [1, 2]) {
    const last = hist.get(idx).at(-1);
    assert.equal(last.status, 'skipped', `block ${idx} (${JSON.stringify(last)})`);
    assert.equal(last.audio_url, undefined);
  }
  assert.equal((await s.metrics()).recite_jobs_failed_total, 0);
});

itest('a document of many blocks is read completely in order of the cursor', async (t, h) => {
  // 24 blocks in two requests of 12: nothing lost, every audio distinct and fetchable
  const s = await h.start({ workers: 2 });
  const md = range(0, 24).map((i) => `Sentence number ${i} is here.`).join('\n\n');
  const d = await s.createDoc(md);
  assert.equal(d.block_count, 24);
  const c = await h.ws(s);
  c.send(synth(d.id, range(0, 12)));
  c.send(synth(d.id, range(12, 24), { cursor: 0 }));
  const hist = await c.waitFinal(d.id, range(0, 24));
  const urls = new Set();
  for (const [idx, list] of hist) {
    assert.equal(list.at(-1).status, 'cached', `block ${idx}`);
    urls.add(list.at(-1).audio_url);
  }
  assert.equal(urls.size, 24);
  // with the cursor at 0 the nearest blocks run first: block 0 is done before block 23 starts
  const order = c.statuses(d.id).filter((m) => m.status === 'processing').map((m) => m.block_idx);
  assert.ok(order.indexOf(0) < order.indexOf(23), `processing order ${order}`);
  for (const u of [...urls].slice(0, 5)) assert.equal((await s.get(u)).status, 200);
});
