// Browser synthesis, server side (SPEC sections 3, 4 and 6): POST /v1/audio stores a block's
// audio made in the page, scoped to its user; synthesis_mode "browser" answers `cached` for
// what this user uploaded and `synthesize_locally` for the rest, never queueing anything;
// model `browser` is listed but never synthesized by the server; every bad upload is a 4xx
// with a precise message and stores nothing.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import net from 'node:net';
import { itest, synth, run, eventually, BIN } from './harness.mjs';
import { addUser, as } from './auth_harness.mjs';
import { writeWav, wordsText, WORDS_TAG } from '../../web/ogg-opus.js';

const TEXT = 'The first sentence is here.\n\nThe second one follows it.\n\nA third closes the document.';

/** `recite say` output for text as a Buffer (ext: ogg, wav, mp3). */
async function say(h, text, ext) {
  const file = join(await h.tmp(), `say.${ext}`);
  const r = await run(BIN, ['say', '-o', file, text]);
  assert.equal(r.code, 0, r.stderr);
  return readFile(file);
}

/** A 16-bit mono WAV header announcing `seconds` of audio, followed by `bodySeconds` of it. */
function wavHeader(seconds, bodySeconds, rate = 22050) {
  const bytes = Math.round(seconds * rate) * 2, have = Math.round(bodySeconds * rate) * 2;
  const b = Buffer.alloc(44 + have);
  b.write('RIFF', 0); b.writeUInt32LE(Math.min(36 + bytes, 0xffffffff), 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(bytes, 40);
  return b;
}

function upload(s, doc, idx, body, { model = 'browser', voice = 'en-us', type } = {}) {
  const headers = { 'X-Document-Id': doc, 'X-Block-Idx': String(idx), 'X-Model': model, 'X-Voice': voice };
  if (type) headers['Content-Type'] = type;
  return s.post('/v1/audio', { body, headers });
}

/** The statuses of a browser-mode synthesize for indices, on a fresh connection. */
async function browserStatuses(h, s, doc, indices) {
  const c = await h.ws(s);
  c.send(synth(doc, indices, { model: 'browser', synthesis_mode: 'browser' }));
  const got = await c.waitUntil(() => {
    const hist = c.history(doc);
    return indices.every((i) => hist.get(i)) && hist;
  });
  c.close();
  return new Map(indices.map((i) => [i, got.get(i).at(-1)]));
}

itest('an uploaded WAV is levelled, stored as Ogg Opus and answered as cached in browser mode', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(TEXT, 'markdown');
  const doc = await s.getDoc(d.id);

  const before = await browserStatuses(h, s, d.id, [0, 1, 2, 3]);
  assert.equal(before.get(0).status, 'synthesize_locally', 'nothing uploaded yet: the page speaks it');
  assert.equal(before.get(0).model, 'browser');
  assert.equal(before.get(3).status, 'skipped', 'out of range, as in server mode');

  const wav = await say(h, doc.blocks[0].text, 'wav');
  const r = await upload(s, d.id, 0, wav, { type: 'audio/wav' });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.variant_hash, /^[0-9a-f]{64}$/);
  assert.equal(r.json.audio_url, `/v1/audio/${r.json.variant_hash}`);

  const a = await s.get(r.json.audio_url);
  assert.equal(a.status, 200);
  assert.equal(a.headers.get('content-type'), 'audio/ogg');
  assert.equal(a.body.subarray(0, 4).toString(), 'OggS', 'stored as Ogg Opus');
  assert.match(a.headers.get('cache-control'), /^private/, 'one user\'s audio: no shared caches');
  const ms = Number(a.headers.get('x-duration-ms'));
  assert.ok(ms > 1000 && ms < 5000, `duration ${ms} ms`);

  // query_states (no work asked for) knows this user's upload too, and nothing else
  const q = await h.ws(s);
  q.send({ type: 'query_states', document_id: d.id, block_indices: [0, 1], model: 'browser', voice: 'en-us' });
  const qs = await q.waitFor((m) => m.type === 'status');
  await q.barrier();
  assert.deepEqual(q.statuses(d.id).map((m) => [m.block_idx, m.status, m.audio_url]), [[0, 'cached', r.json.audio_url]]);
  assert.equal(qs.block_idx, 0);

  const after = await browserStatuses(h, s, d.id, [0, 1]);
  assert.equal(after.get(0).status, 'cached');
  assert.equal(after.get(0).audio_url, r.json.audio_url);
  assert.equal(after.get(0).duration_ms, ms);
  assert.equal(after.get(1).status, 'synthesize_locally');

  // the server's own synthesis of the same block never returns the upload
  const c = await h.ws(s);
  c.send(synth(d.id, [0]));
  const st = (await c.waitFinal(d.id, [0])).get(0).at(-1);
  assert.equal(st.status, 'cached');
  assert.notEqual(st.audio_url, r.json.audio_url, 'server audio and browser audio never mix');
});

itest('an uploaded Ogg Opus is accepted; model browser is listed, previewed as a sentence and never synthesized by the server', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const models = (await s.get('/v1/models')).json;
  const browser = models.find((m) => m.slug === 'browser');
  assert.ok(browser, 'model browser is listed');
  assert.equal(browser.synthesis_mode, 'browser');
  assert.ok(browser.voices.some((v) => v.slug === 'en-us' && v.lang === 'en-US'));
  assert.equal(models.find((m) => m.slug === 'espeak').synthesis_mode, 'server');

  const d = await s.createDoc(TEXT, 'markdown');
  const doc = await s.getDoc(d.id);
  const ogg = await say(h, doc.blocks[1].text, 'ogg');
  const r = await upload(s, d.id, 1, ogg, { type: 'audio/ogg' });
  assert.equal(r.status, 201, r.text);
  assert.equal((await browserStatuses(h, s, d.id, [1])).get(1).status, 'cached');

  const c = await h.ws(s);
  c.send({ type: 'synthesize', document_id: d.id, block_indices: [0], model: 'browser', voice: 'en-us' });
  const implied = await c.waitFor((m) => m.type === 'status' && m.block_idx === 0);
  assert.equal(implied.status, 'synthesize_locally', 'no synthesis_mode: the model\'s own (browser)');
  c.send(synth(d.id, [0], { model: 'browser' }));   // server mode
  const e = await c.waitFor((m) => m.type === 'error');
  assert.match(e.error, /synthesized in the page/);
  c.send(synth(d.id, [0], { synthesis_mode: 'browser' }));   // espeak in browser mode
  const e2 = await c.waitFor((m) => m.type === 'error' && m !== e);
  assert.match(e2.error, /needs model "browser"/);
  c.send(synth(d.id, [0], { synthesis_mode: 'elsewhere' }));
  const e3 = await c.waitFor((m) => m.type === 'error' && m !== e && m !== e2);
  assert.match(e3.error, /"server" or "browser"/);
  assert.equal(c.statuses(d.id).length, 1, 'nothing queued');

  const sp = await s.post('/v1/audio/speech', { json: { model: 'browser', voice: 'en-us', input: 'Hi.' } });
  assert.equal(sp.status, 400, 'the OpenAI endpoint does not offer page voices');
  const pv = await s.get('/v1/models/browser/voices/de/preview');
  assert.equal(pv.status, 200, 'a browser voice\'s preview is the sentence, for the page to speak');
  assert.equal(pv.json.synthesis_mode, 'browser');
  assert.equal(pv.json.audio_url, undefined, 'the server synthesizes nothing for it');
  assert.ok(pv.json.text.length > 10 && pv.json.voice === 'de');
  assert.notEqual(pv.json.text, (await s.get('/v1/models/browser/voices/en-us/preview')).json.text, 'in the voice\'s language');
});

itest('bad uploads get a precise 4xx and store nothing', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(TEXT, 'markdown');
  const doc = await s.getDoc(d.id);
  const text = doc.blocks[2].text;
  const ogg = await say(h, text, 'ogg');
  const mp3 = await say(h, text, 'mp3');
  const wav = await say(h, text, 'wav');

  const cases = [
    ['wrong document', () => upload(s, '00000000-0000-4000-8000-000000000000', 2, ogg), 404, /unknown document/],
    ['not a document id', () => upload(s, 'nope', 2, ogg), 404, /unknown document/],
    ['index out of range', () => upload(s, d.id, 3, ogg), 400, /block 3 is out of range: the document has blocks 0 to 2/],
    ['negative index', () => upload(s, d.id, -1, ogg), 400, /out of range/],
    ['index not a number', () => upload(s, d.id, 'two', ogg), 400, /X-Block-Idx must be a block index/],
    ['unknown model', () => upload(s, d.id, 2, ogg, { model: 'nosuch' }), 400, /unknown model "nosuch"/],
    ['a server model', () => upload(s, d.id, 2, ogg, { model: 'espeak' }), 400, /only model "browser" audio can be uploaded/],
    ['unknown voice', () => upload(s, d.id, 2, ogg, { voice: 'xx-none' }), 400, /unknown voice "xx-none"/],
    ['missing headers', () => s.post('/v1/audio', { body: ogg }), 400, /X-Document-Id, X-Block-Idx, X-Model and X-Voice/],
    ['not audio', () => upload(s, d.id, 2, Buffer.from('hello, this is text and not audio at all')), 415, /not audio/],
    ['MP3', () => upload(s, d.id, 2, mp3), 415, /the body is MP3/],
    ['says Opus, is MP3', () => upload(s, d.id, 2, mp3, { type: 'audio/ogg' }), 415, /Content-Type says Ogg Opus, but the body is MP3/],
    ['says WAV, is Ogg', () => upload(s, d.id, 2, ogg, { type: 'audio/wav' }), 415, /Content-Type says WAV, but the body is Ogg Opus/],
    ['truncated Ogg', () => upload(s, d.id, 2, ogg.subarray(0, Math.floor(ogg.length * 0.6)), { type: 'audio/ogg' }), 400, /truncated Ogg Opus/],
    ['Ogg cut at a page boundary', () => upload(s, d.id, 2, ogg.subarray(0, ogg.lastIndexOf('OggS')), { type: 'audio/ogg' }), 400, /truncated Ogg Opus/],
    ['a flipped byte (CRC)', () => { const b = Buffer.from(ogg); b[b.length - 10] ^= 0x55; return upload(s, d.id, 2, b); }, 400, /CRC/],
    ['truncated WAV', () => upload(s, d.id, 2, wav.subarray(0, wav.length - 1000)), 400, /truncated WAV/],
    ['a 10-hour WAV for one sentence', () => upload(s, d.id, 2, wavHeader(36000, 2)), 422, /lasts 10:00:00, but this block \(\d+ characters\) takes at most/],
    ['a 2-minute WAV for one sentence', () => upload(s, d.id, 2, wavHeader(120, 120, 8000)), 422, /takes at most/],
    ['WAV at 96 kHz', () => upload(s, d.id, 2, wavHeader(1, 1, 96000)), 415, /96000 Hz/],
    ['empty body', () => upload(s, d.id, 2, Buffer.alloc(0)), 400, /body is empty|X-Document-Id/],
  ];
  for (const [what, send, status, message] of cases) {
    const r = await send();
    assert.equal(r.status, status, `${what}: ${r.status} ${r.text}`);
    assert.match(r.json?.error ?? '', message, what);
  }
  const big = await s.post('/v1/audio', { body: Buffer.alloc(11 << 20),
    headers: { 'X-Document-Id': d.id, 'X-Block-Idx': '2', 'X-Model': 'browser', 'X-Voice': 'en-us' } })
    .catch((e) => ({ status: 413, error: e }));   // the server may close while we still send
  assert.equal(big.status, 413);
  assert.equal((await browserStatuses(h, s, d.id, [2])).get(2).status, 'synthesize_locally', 'nothing was stored');
  assert.equal((await s.get('/healthz')).status, 200, 'still serving');
});

itest('with --auth an upload is its user\'s alone: another user gets 404 and never sees it cached', async (t, h) => {
  const dir = await h.tmp();
  const alice = { token: await addUser(dir, 'alice') };
  const bob = { token: await addUser(dir, 'bob') };
  const s = await h.start({ workers: 1, dataDir: dir, args: ['--auth'] });
  const A = as(s, h, alice), B = as(s, h, bob);
  const d = await A.createDoc(TEXT);
  const text = (await A.get(`/v1/documents/${d.id}`)).json.blocks[0].text;
  const wav = await say(h, text, 'wav');
  const headers = { 'X-Document-Id': d.id, 'X-Block-Idx': '0', 'X-Model': 'browser', 'X-Voice': 'en-us' };
  const up = await A.post('/v1/audio', { body: wav, headers });
  assert.equal(up.status, 201, up.text);
  assert.equal((await A.get(up.json.audio_url)).status, 200, 'the uploader hears it');
  const other = await B.get(up.json.audio_url);
  assert.equal(other.status, 404, 'another user: as if it did not exist');
  assert.equal((await s.get(up.json.audio_url)).status, 401, 'nobody: not signed in');
  const steal = await B.post('/v1/audio', { body: wav, headers });
  assert.equal(steal.status, 404, 'bob cannot upload into alice\'s document');
  assert.match(steal.json.error, /unknown document/);

  // bob's own copy of the same text: his browser-mode answer never points at alice's audio
  const db = await B.createDoc(TEXT);
  const c = await B.ws();
  c.send(synth(db.id, [0], { model: 'browser', synthesis_mode: 'browser' }));
  const st = await c.waitFor((m) => m.type === 'status' && m.block_idx === 0);
  assert.equal(st.status, 'synthesize_locally');
  const mine = await B.post('/v1/audio', { body: wav, headers: { ...headers, 'X-Document-Id': db.id } });
  assert.equal(mine.status, 201, mine.text);
  assert.notEqual(mine.json.variant_hash, up.json.variant_hash, 'the hash is scoped to the user');
  assert.equal((await A.get(mine.json.audio_url)).status, 404);
});

itest('the page\'s word timings (X-Word-Timings) are stored with the upload and come back with `cached`', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc('Hello there, wide world.', 'text');
  const text = (await s.getDoc(d.id)).blocks[0].text;
  const wav = await say(h, text, 'wav');
  const headers = { 'X-Document-Id': d.id, 'X-Block-Idx': '0', 'X-Model': 'browser', 'X-Voice': 'en-us' };
  const bad = await s.post('/v1/audio', { body: wav, headers: { ...headers, 'X-Word-Timings': '0 100 0 5,oops' } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /X-Word-Timings must be/);
  const outside = await s.post('/v1/audio', { body: wav, headers: { ...headers, 'X-Word-Timings': '0 100 20 9' } });
  assert.equal(outside.status, 400);
  assert.match(outside.json.error, /not a span of the block's 24 UTF-16 units/);
  // "Hello" "there" "wide" "world" at made-up times inside the audio
  const words = '50 400 0 5, 400 800 6 5,800 1100 13 4,1100 1500 18 5';
  const r = await s.post('/v1/audio', { body: wav, headers: { ...headers, 'X-Word-Timings': words } });
  assert.equal(r.status, 201, r.text);
  const st = (await browserStatuses(h, s, d.id, [0])).get(0);
  assert.equal(st.status, 'cached');
  const w = st.word_timings;
  assert.ok(Array.isArray(w) && w.length === 4, JSON.stringify(w));
  assert.deepEqual(w.map((x) => text.slice(x.offset, x.offset + x.length)), ['Hello', 'there', 'wide', 'world']);
  for (let i = 1; i < w.length; i++) assert.ok(w[i].start_ms >= w[i - 1].start_ms);
  assert.ok(w.every((x) => x.end_ms <= st.duration_ms), 'inside the stored (trimmed) audio');
});

itest('a block with hundreds of words keeps its word timings: they ride in the body (WAV "word" chunk, OpusTags comment), checked, nothing stored when wrong', async (t, h) => {
  const s = await h.start({ workers: 1 });
  // Blocks are at most ~325 characters (doc/split.c), so the most words a block has are
  // one-character words: Chinese, where espeak-ng reports each character as a word. Two
  // such blocks of ~240 words: their timings are over 4 KiB, more than any header can carry.
  const han = '我们今天一起在家里读这本很长的书每个字都会被朗读出来并且高亮显示';
  const sentence = (k) => Array.from({ length: 24 }, (_, i) => han[(i * 7 + k) % han.length]).join('') + '。';
  const d = await s.createDoc(Array.from({ length: 40 }, (_, k) => sentence(k)).join(''), 'text');
  const blocks = (await s.getDoc(d.id)).blocks;
  const timings = (text) => [...text.matchAll(/\p{Script=Han}/gu)].map((m, i) =>
    ({ start_ms: 100 + i * 200, end_ms: 100 + i * 200 + 180, offset: m.index, length: 1 }));
  const w0 = timings(blocks[0].text), w1 = timings(blocks[1].text);
  assert.ok(w0.length >= 200 && w1.length >= 200, `${w0.length} and ${w1.length} words`);
  assert.ok(wordsText(w0).length > 4096 && wordsText(w1).length > 4096, 'more than a header could carry');
  // a continuous tone (no silence to trim inside), 200 ms a word after 100 ms, at 8 kHz
  const rate = 8000, ms = 100 + Math.max(w0.length, w1.length) * 200 + 200;
  const tone = new Int16Array(rate * ms / 1000).map((_, i) => Math.round(6000 * Math.sin(i / 3)));

  // block 0: WAV written by the page's own writer, timings in its "word" chunk
  const wav = Buffer.from(writeWav(tone, rate, { words: wordsText(w0) }));
  const r0 = await upload(s, d.id, 0, wav, { type: 'audio/wav' });
  assert.equal(r0.status, 201, r0.text);
  // block 1: Ogg Opus with the timings as an OpusTags comment (opusenc writes it here)
  const dir = await h.tmp();
  await writeFile(join(dir, 'plain.wav'), Buffer.from(writeWav(tone, rate)));
  const enc = await run('opusenc', ['--quiet', '--comment', `${WORDS_TAG}=${wordsText(w1)}`, join(dir, 'plain.wav'), join(dir, 'b1.ogg')]);
  assert.equal(enc.code, 0, enc.stderr);
  const r1 = await upload(s, d.id, 1, await readFile(join(dir, 'b1.ogg')), { type: 'audio/ogg' });
  assert.equal(r1.status, 201, r1.text);

  // after a "reload": the WS `cached` statuses carry every word of each block
  const st = await browserStatuses(h, s, d.id, [0, 1]);
  for (const [i, sent] of [[0, w0], [1, w1]]) {
    const c = st.get(i);
    assert.equal(c.status, 'cached', JSON.stringify(c).slice(0, 300));
    const w = c.word_timings;
    assert.ok(Array.isArray(w) && w.length === sent.length, `block ${i}: ${w?.length} of ${sent.length} words`);
    assert.deepEqual(w.map((x) => [x.offset, x.length]), sent.map((x) => [x.offset, x.length]), `block ${i}: the same spans`);
    assert.deepEqual(w.map((x) => blocks[i].text.slice(x.offset, x.offset + x.length)),
      sent.map((x) => blocks[i].text.slice(x.offset, x.offset + x.length)));
    // moved together with the silence the server fitted: one shift for every word
    const shift = w[0].start_ms - sent[0].start_ms;
    assert.ok(w.every((x, k) => x.start_ms - sent[k].start_ms === shift && x.end_ms - x.start_ms === 180), `block ${i}: one shift`);
    assert.ok(w.every((x) => x.end_ms <= c.duration_ms), 'inside the stored audio');
  }

  // wrong timings in the body: a clear 400, nothing stored (the block stays the page's to say)
  const e = await s.createDoc('Short one here.', 'text');
  const short = (await s.getDoc(e.id)).blocks[0].text;
  const shortTone = tone.subarray(0, rate * 2);
  const refuse = async (words, re, headers = {}) => {
    const body = Buffer.from(writeWav(shortTone, rate, { words }));
    const r = await s.post('/v1/audio', { body, headers: { 'Content-Type': 'audio/wav', 'X-Document-Id': e.id,
      'X-Block-Idx': '0', 'X-Model': 'browser', 'X-Voice': 'en-us', ...headers } });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error, re);
  };
  await refuse('300 500 6 3,100 300 0 5', /word 1 \(100 ms at 0\) comes before word 0.*in order/);
  await refuse('100 300 0 5,300 2500 6 3', /word 1 ends at 2500 ms, after the audio's end \(2000 ms\)/);
  await refuse('100 300 0 5,300 500 6 30', /not a span of the block's 15 UTF-16 units/);
  await refuse('100 300 0 5,oops', /the body's word timings must be "START END OFFSET LENGTH"/);
  await refuse('100 300 0 5', /both in X-Word-Timings and in the body/, { 'X-Word-Timings': '100 300 0 5' });
  assert.equal(short.length, 15);
  assert.equal((await browserStatuses(h, s, e.id, [0])).get(0).status, 'synthesize_locally', 'nothing stored');
  // right ones are kept
  const ok = await s.post('/v1/audio', { body: Buffer.from(writeWav(shortTone, rate, { words: '100 300 0 5,300 500 6 3,500 800 10 4' })),
    headers: { 'Content-Type': 'audio/wav', 'X-Document-Id': e.id, 'X-Block-Idx': '0', 'X-Model': 'browser', 'X-Voice': 'en-us' } });
  assert.equal(ok.status, 201, ok.text);
  assert.equal((await browserStatuses(h, s, e.id, [0])).get(0).word_timings.length, 3);
});

itest('a client that hangs up while its upload is processed leaves the server serving, the audio stored', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(TEXT, 'markdown');
  const text = (await s.getDoc(d.id)).blocks[0].text;
  const wav = await say(h, text, 'wav');
  const head = `POST /v1/audio HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\nContent-Length: ${wav.length}\r\n` +
    `X-Document-Id: ${d.id}\r\nX-Block-Idx: 0\r\nX-Model: browser\r\nX-Voice: en-us\r\n\r\n`;
  const sock = net.connect(s.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write(Buffer.concat([Buffer.from(head), wav]), () => sock.destroy());
  // the work was submitted with the whole body: it finishes and is stored with nobody to answer
  await eventually(async () => (await browserStatuses(h, s, d.id, [0])).get(0).status === 'cached',
    'the upload stored after its client left');
  assert.equal((await s.get('/healthz')).status, 200);
});

itest('--rate-blocks counts uploads: past it, 429 with Retry-After and nothing stored', async (t, h) => {
  const s = await h.start({ workers: 1, args: ['--rate-blocks', '2'] });
  const d = await s.createDoc(TEXT, 'markdown');
  const doc = await s.getDoc(d.id);
  const bodies = await Promise.all(doc.blocks.map((b) => say(h, b.text, 'wav')));
  assert.equal((await upload(s, d.id, 0, bodies[0])).status, 201);
  assert.equal((await upload(s, d.id, 1, bodies[1])).status, 201);
  const third = await upload(s, d.id, 2, bodies[2]);
  assert.equal(third.status, 429, third.text);
  assert.match(third.json.error, /at most 2 a minute/);
  assert.ok(Number(third.headers.get('retry-after')) > 0);
  assert.equal((await browserStatuses(h, s, d.id, [2])).get(2).status, 'synthesize_locally');
});

itest('with --workers 0 and no Redis the server models are unavailable and the browser model is not', async (t, h) => {
  const s = await h.start({ workers: 0 });
  const models = (await s.get('/v1/models')).json;
  assert.deepEqual(Object.fromEntries(models.map((m) => [m.slug, m.available])),
    { espeak: false, flite: false, browser: true }, 'the page falls back to the browser voices');
  const one = await h.start({ workers: 1 });
  assert.ok((await one.get('/v1/models')).json.every((m) => m.available === true));
});
