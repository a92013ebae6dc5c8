// Voices (SPEC section 6): the models and voices in GET /v1/models, audio from every flite
// voice and from espeak-ng in several languages over the WebSocket, word timings that are
// monotonic, inside the audio and cover every word (English and German), voice previews,
// and every voice at the same loudness (ffmpeg's ebur128 on the served audio).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { itest, synth, probe, decodes, run, BIN } from './harness.mjs';

const BCP47 = /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

/** Integrated loudness of an audio file by ffmpeg's ebur128 (LUFS). */
async function lufs(file) {
  const r = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-af', 'ebur128', '-f', 'null', '-']);
  const all = [...r.stderr.matchAll(/^\s+I:\s+(-?[\d.]+) LUFS/gm)];
  assert.ok(all.length, `ebur128 summary for ${file}: ${r.stderr.slice(-400)}`);
  return Number(all.at(-1)[1]);
}

/** Synthesizes block 0 of `text` with model/voice on a new connection: the final status. */
async function speak(h, s, text, model, voice) {
  const d = await s.createDoc(text, 'text');
  const doc = await s.getDoc(d.id);
  const c = await h.ws(s);
  c.send(synth(d.id, [0], { model, voice }));
  const st = (await c.waitFinal(d.id, [0], { timeoutMs: 30_000 })).get(0).at(-1);
  return { st, text: doc.blocks[0].text };
}

/** Every word (letters/digits, inner apostrophes) of text is inside one timing; timings
 *  are ordered, inside the audio, and on the text. */
function checkTimings(st, text, what) {
  const w = st.word_timings;
  assert.ok(Array.isArray(w) && w.length > 0, `${what}: word_timings`);
  let prev = null;
  for (const t of w) {
    assert.ok(Number.isInteger(t.start_ms) && Number.isInteger(t.end_ms), `${what}: ${JSON.stringify(t)}`);
    assert.ok(t.start_ms >= 0 && t.end_ms >= t.start_ms && t.end_ms <= st.duration_ms,
      `${what}: ${JSON.stringify(t)} inside ${st.duration_ms} ms`);
    assert.ok(t.offset >= 0 && t.length > 0 && t.offset + t.length <= text.length, `${what}: ${JSON.stringify(t)}`);
    if (prev) {
      assert.ok(t.start_ms >= prev.start_ms, `${what}: start times in order`);
      assert.ok(t.offset >= prev.offset + prev.length, `${what}: words in text order, no overlap`);
    }
    prev = t;
  }
  for (const m of text.matchAll(/[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu)) {
    const a = m.index, b = m.index + m[0].length;
    assert.ok(w.some((t) => t.offset <= a && t.offset + t.length >= b),
      `${what}: the word "${m[0]}" has a timing (${JSON.stringify(w.map((t) => text.slice(t.offset, t.offset + t.length)))})`);
  }
}

itest('GET /v1/models lists espeak-ng and flite voices with names and BCP-47 languages', async (t, h) => {
  const s = await h.start();
  const models = (await s.get('/v1/models')).json;
  assert.deepEqual(models.map((m) => m.slug), ['espeak', 'flite', 'browser'], 'openai only with --openai-url; browser: the page\'s voices');
  for (const m of models) {
    assert.ok(m.name && m.voices.length > 0, m.slug);
    const slugs = new Set();
    for (const v of m.voices) {
      assert.ok(v.slug && v.name, `${m.slug}: ${JSON.stringify(v)}`);
      assert.match(v.lang, BCP47, `${m.slug}/${v.slug} lang`);
      assert.ok(!slugs.has(v.slug), `${m.slug}: duplicate ${v.slug}`);
      slugs.add(v.slug);
    }
  }
  const espeak = models[0].voices;
  assert.ok(espeak.length > 100, `espeak-ng ships >100 voices, got ${espeak.length}`);
  const en = espeak.find((v) => v.slug === 'en-us');
  assert.deepEqual(en, { slug: 'en-us', name: 'English (America)', lang: 'en-US' });
  assert.equal(new Set(espeak.map((v) => v.lang.split('-')[0])).size > 60, true, 'many languages');
  const flite = models[1].voices;
  assert.deepEqual(flite.map((v) => v.slug).sort(), ['awb', 'kal', 'kal16', 'rms', 'slt']);
  assert.equal(flite.find((v) => v.slug === 'awb').lang, 'en-GB-scotland');
  assert.equal(flite.find((v) => v.slug === 'slt').lang, 'en-US');

  const r = await run(BIN, ['voices']);
  assert.equal(r.code, 0);
  for (const v of ['slt', 'kal16', 'awb'])
    assert.match(r.stdout, new RegExp(`^flite\\t${v}\\ten-`, 'm'));
});

itest('every flite voice speaks, with word timings on every word', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const voices = (await s.get('/v1/models')).json.find((m) => m.slug === 'flite').voices;
  const dir = await h.tmp();
  const text = 'The lighthouse keeper climbed ninety-nine stairs, and it’s 42 degrees tonight.';
  for (const v of voices) {
    const { st, text: block } = await speak(h, s, `${text} (${v.slug})`, 'flite', v.slug);
    assert.equal(st.status, 'cached', `${v.slug}: ${JSON.stringify(st)}`);
    assert.equal(st.model, 'flite');
    assert.equal(st.voice, v.slug);
    assert.ok(st.duration_ms > 2000, `${v.slug}: ${st.duration_ms} ms`);
    checkTimings(st, block, `flite/${v.slug}`);
    const a = await s.get(st.audio_url);
    assert.equal(a.status, 200);
    const file = join(dir, `${v.slug}.ogg`);
    await writeFile(file, a.body);
    const p = await probe(file);
    assert.equal(p.codec, 'opus');
    assert.equal(p.channels, 1);
    assert.ok(await decodes(file), `${v.slug} decodes`);
  }
});

itest('espeak-ng speaks in many languages', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const cases = [
    ['en-us', 'The weather is lovely today.'],
    ['de', 'Das Wetter ist heute wunderschön.'],
    ['fr-fr', 'Il fait très beau aujourd’hui.'],
    ['es', 'Hoy hace un tiempo estupendo.'],
    ['it', 'Oggi il tempo è bellissimo.'],
    ['ru', 'Сегодня прекрасная погода.'],
    ['cmn', '今天天气很好。'],
    ['pt-br', 'O tempo está ótimo hoje.'],
  ];
  for (const [voice, text] of cases) {
    const { st } = await speak(h, s, text, 'espeak', voice);
    assert.equal(st.status, 'cached', `${voice}: ${JSON.stringify(st)}`);
    assert.ok(st.duration_ms > 800, `${voice}: ${st.duration_ms} ms`);
    assert.ok(st.word_timings?.length >= 1, `${voice} has word timings`);
  }
});

itest('word timings cover every word of an English and a German sentence', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const en = 'Yesterday, the old fisherman told us a remarkable story about the sea.';
  const de = 'Gestern erzählte uns der alte Fischer eine bemerkenswerte Geschichte über das Meer.';
  for (const [model, voice, text] of [['espeak', 'en-us', en], ['flite', 'slt', en],
    ['flite', 'awb', en], ['espeak', 'de', de]]) {
    const { st, text: block } = await speak(h, s, text, model, voice);
    assert.equal(st.status, 'cached');
    checkTimings(st, block, `${model}/${voice}`);
    // the timings span the speech: the last word ends near the end of the audio
    const last = st.word_timings.at(-1);
    assert.ok(last.end_ms > st.duration_ms * 0.7, `${model}/${voice}: last word ends at ${last.end_ms} of ${st.duration_ms}`);
    assert.ok(st.word_timings[0].start_ms < 400, `${model}/${voice}: first word starts early`);
  }
});

itest('a voice preview is a short sentence in its language, cached like a block', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const a = await s.get('/v1/models/flite/voices/slt/preview');
  assert.equal(a.status, 200, a.text);
  assert.match(a.json.audio_url, /^\/v1\/audio\/[0-9a-f]{64}$/);
  assert.match(a.json.text, /^Hello!/);
  assert.ok(a.json.duration_ms > 1000);
  assert.ok(Array.isArray(a.json.word_timings));
  const audio = await s.get(a.json.audio_url);
  assert.equal(audio.status, 200);
  assert.equal(audio.headers.get('content-type'), 'audio/ogg');
  assert.equal(Number(audio.headers.get('x-duration-ms')), a.json.duration_ms);

  const before = (await s.metrics()).recite_syntheses_total;
  const again = await s.get('/v1/models/flite/voices/SLT/preview');
  assert.deepEqual(again.json, a.json, 'the second preview comes from the cache');
  assert.equal((await s.metrics()).recite_syntheses_total, before);

  const de = await s.get('/v1/models/espeak/voices/de/preview');
  assert.equal(de.status, 200, de.text);
  assert.match(de.json.text, /^Hallo!/);
  const ja = await s.get('/v1/models/espeak/voices/ja/preview');
  assert.equal(ja.status, 200, ja.text);
  assert.match(ja.json.text, /[\u3040-\u30ff]/, 'Japanese text for a Japanese voice');

  // the preview is the same variant a block with that text would be
  const d = await s.createDoc(a.json.text, 'text');
  const c = await h.ws(s);
  c.send(synth(d.id, [0], { model: 'flite', voice: 'slt' }));
  const st = (await c.waitFinal(d.id, [0])).get(0);
  assert.deepEqual(st.map((m) => m.status), ['cached']);
  assert.equal(st[0].audio_url, a.json.audio_url);

  for (const [path, code] of [['/v1/models/flite/voices/nobody/preview', 404],
    ['/v1/models/nope/voices/slt/preview', 404], ['/v1/models/flite/voices/slt', 404],
    ['/v1/models/flite/voices/slt/preview/x', 404]]) {
    const r = await s.get(path);
    assert.equal(r.status, code, path);
    assert.ok(r.json?.error, `${path}: an error message`);
  }
  assert.equal((await s.post('/v1/models/flite/voices/slt/preview', { json: {} })).status, 405);
});

itest('every voice plays at the same loudness (-18 LUFS, ffmpeg ebur128)', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const dir = await h.tmp();
  const voices = [['flite', 'slt'], ['flite', 'rms'], ['flite', 'awb'], ['flite', 'kal16'],
    ['flite', 'kal'], ['espeak', 'en-us'], ['espeak', 'de'], ['espeak', 'fr-fr'], ['espeak', 'cmn']];
  const got = [];
  for (const [model, voice] of voices) {
    const p = await s.get(`/v1/models/${model}/voices/${voice}/preview`);
    assert.equal(p.status, 200, p.text);
    const file = join(dir, `${model}-${voice}.ogg`);
    await writeFile(file, (await s.get(p.json.audio_url)).body);
    got.push([`${model}/${voice}`, await lufs(file)]);
  }
  for (const [name, l] of got) assert.ok(Math.abs(l - -18) <= 1.0, `${name}: ${l} LUFS`);
  const values = got.map(([, l]) => l);
  const spread = Math.max(...values) - Math.min(...values);
  assert.ok(spread <= 1.0, `spread ${spread.toFixed(2)} LU: ${JSON.stringify(got)}`);
});
