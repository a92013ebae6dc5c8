// The kokoro model end to end (issue 10), on the real ONNX Runtime with a tiny but valid
// model (tests/data/kokoro/make_kokoro.mjs: Kokoro's inputs `tokens`/`input_ids`, `style`,
// `speed` and its `audio` output, 256 samples per token) and a voices .npz of three tone
// "voices" (af_test, bm_test, ff_test). Kokoro itself (~310 MB) cannot be downloaded here.
//
// A good folder: the voices are listed (models, /v1/audio/voices, `recite voices`), speak
// over the WebSocket with word timings, the audio decodes and grows with the text, two
// voices differ, an unknown voice is refused, `recite say` repeats byte for byte. Broken
// folders: each named in the log or the job's error, and espeak keeps speaking.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { itest, synth, probe, run, BIN } from './harness.mjs';
import { speakBlock, checkAudio, checkTimings } from './speech_checks.mjs';
import { tinyKokoroModel, tinyVoicesFile, writeKokoro } from '../data/kokoro/make_kokoro.mjs';

/** Synthesizes block 0 of text with a kokoro voice (or another model's). */
const speak = (h, s, text, voice, model = 'kokoro') => speakBlock(h, s, text, model, voice);

itest('kokoro voices are listed by language, speak with word timings, and differ', async (t, h) => {
  const dir = await h.tmp();
  writeKokoro(dir, { deflate: true });   // np.savez_compressed's form
  const s = await h.start({ workers: 2, args: ['--voices', dir] });

  const models = (await s.get('/v1/models')).json;
  const kokoro = models.find((m) => m.slug === 'kokoro');
  assert.ok(kokoro, `kokoro in ${models.map((m) => m.slug)}`);
  assert.ok(!models.some((m) => m.slug === 'piper'), 'kokoro-v1.0.onnx is not taken for a Piper voice');
  assert.deepEqual(kokoro.voices.map((v) => [v.slug, v.lang, v.name]), [
    ['af_test', 'en-US', 'Test (American English, female)'],
    ['bm_test', 'en-GB', 'Test (British English, male)'],
    ['ff_test', 'fr-FR', 'Test (French, female)'],
  ]);
  const listed = (await s.get('/v1/audio/voices?model=kokoro')).json.voices;
  assert.ok(listed.some((v) => v.id === 'bm_test' && v.lang === 'en-GB'), JSON.stringify(listed));
  const cli = await run(BIN, ['voices', '--voices', dir]);
  assert.equal(cli.code, 0);
  assert.match(cli.stdout, /^kokoro\taf_test\ten-US\t/m);

  const short = await speak(h, s, 'Good morning.', 'af_test');
  assert.equal(short.st.status, 'cached', JSON.stringify(short.st));
  const shortAudio = await checkAudio(h, s, short.st, 'short');
  checkTimings(short.st, short.text, 'short');
  const long = await speak(h, s, 'Good morning, dear listeners. Today we read a much longer sentence, with several clauses, aloud.', 'af_test');
  assert.equal(long.st.status, 'cached', JSON.stringify(long.st));
  await checkAudio(h, s, long.st, 'long');
  checkTimings(long.st, long.text, 'long');
  assert.ok(long.st.duration_ms > 2 * short.st.duration_ms, `${long.st.duration_ms} vs ${short.st.duration_ms} ms`);

  // another voice, same text: other audio (the tiny voices are tones of other pitches)
  const other = await speak(h, s, 'Good morning.', 'bm_test');
  assert.equal(other.st.status, 'cached', JSON.stringify(other.st));
  assert.notDeepEqual(await checkAudio(h, s, other.st, 'bm_test'), shortAudio);
  const fr = await speak(h, s, 'Bonjour à tous, ça va ?', 'ff_test');
  assert.equal(fr.st.status, 'cached', JSON.stringify(fr.st));
  checkTimings(fr.st, fr.text, 'fr');

  // OpenAI's voice names speak with Kokoro when it is installed: the voice named after them
  // (af_alloy ...), else one of the same sex — here af_test for alloy, bm_test for onyx
  const mapped = (await s.get('/v1/audio/voices?model=tts-1')).json.voices;
  assert.equal(mapped.find((v) => v.id === 'alloy').voice, 'kokoro/af_test');
  assert.equal(mapped.find((v) => v.id === 'onyx').voice, 'kokoro/bm_test');
  const speech = await s.post('/v1/audio/speech', { json: { model: 'tts-1', voice: 'alloy', input: 'Hello from an OpenAI client.', response_format: 'wav' } });
  assert.equal(speech.status, 200);
  const wav = join(await h.tmp(), 'alloy.wav');
  await writeFile(wav, speech.body);
  assert.equal((await probe(wav)).sample_rate, 24000);

  const d = await s.createDoc('Unknown voice.', 'text');
  const c = await h.ws(s);
  c.send(synth(d.id, [0], { model: 'kokoro', voice: 'af_nobody' }));
  const err = await c.waitFor((m) => m.type === 'error');
  assert.match(err.error || err.message || JSON.stringify(err), /unknown voice "af_nobody"/);
  const again = await speak(h, s, 'Still speaking.', 'af_test');
  assert.equal(again.st.status, 'cached');
});

itest('recite say renders a kokoro voice at 24 kHz, the same every time (input_ids export)', async (t, h) => {
  const dir = await h.tmp();
  // the newer export's names and types, and noise in the graph: renders must still repeat
  writeKokoro(dir, { inputIds: true, speedInt: true, noise: true });
  const out = await h.tmp();
  const args = ['say', '--voices', dir, '--model', 'kokoro', '--voice', 'af_test'];
  const a = await run(BIN, [...args, '-o', join(out, 'a.wav'), 'One sentence. And a second one.']);
  assert.equal(a.code, 0, a.stderr);
  const b = await run(BIN, [...args, '-o', join(out, 'b.wav'), 'One sentence. And a second one.']);
  assert.equal(b.code, 0, b.stderr);
  const p = await probe(join(out, 'a.wav'));
  assert.equal(p.sample_rate, 24000);
  assert.ok(p.duration_s > 0.5, `${p.duration_s} s`);
  assert.deepEqual(await readFile(join(out, 'a.wav')), await readFile(join(out, 'b.wav')));
});

itest('word timings follow the model\'s durations output when it has one (timestamped exports)', async (t, h) => {
  const dir = await h.tmp();
  writeKokoro(dir, { durations: 'int64' });   // each id's duration = the id itself
  const s = await h.start({ workers: 1, args: ['--voices', dir] });
  const r = await speak(h, s, 'Hello world!', 'af_test');
  assert.equal(r.st.status, 'cached', JSON.stringify(r.st));
  checkTimings(r.st, r.text, 'durations');
  // ids 0 [h ə l ˈ o ʊ] ␣ [w ˈ ɜ ː l d] ! 0 = 0 [50 83 54 156 57 135] 16 [65 156 87 158 54 46] 5 0:
  // by duration "world" starts 551/535 of "Hello"'s length after "Hello" starts (equal
  // shares would give 7/6)
  const [hello, world] = r.st.word_timings;
  const ratio = (world.start_ms - hello.start_ms) / (hello.end_ms - hello.start_ms);
  assert.ok(Math.abs(ratio - 551 / 535) < 0.06, `ratio ${ratio}: ${JSON.stringify(r.st.word_timings)}`);
});

itest('broken kokoro files are named, and the server speaks with its other engines', async (t, h) => {
  const cases = [
    { what: 'no voices file', files: { 'kokoro-v1.0.onnx': tinyKokoroModel() },
      log: /kokoro-v1\.0\.onnx has no voices file/ },
    { what: 'no model', files: { 'voices-v1.0.bin': tinyVoicesFile({ rows: 4 }) },
      log: /voices-v1\.0\.bin has no model beside it/ },
    { what: 'a voices file that is not an npz', files: { 'kokoro-v1.0.onnx': tinyKokoroModel(), 'voices-v1.0.bin': Buffer.from('{"af_x": [1, 2]}') },
      log: /voices-v1\.0\.bin: not a NumPy \.npz/ },
    { what: 'a model that is not ONNX', files: { 'kokoro-v1.0.onnx': Buffer.from('not a model'), 'voices-v1.0.bin': tinyVoicesFile({ rows: 4, dim: 256 }) },
      log: /kokoro-v1\.0\.onnx: it is not an ONNX model/ },
    { what: 'a broken vocabulary', files: { 'kokoro-v1.0.onnx': tinyKokoroModel(), 'voices-v1.0.bin': tinyVoicesFile({ rows: 4 }),
      'kokoro-config.json': '{"vocab": {"ab": 1}}' }, log: /kokoro-config\.json: vocab key "ab" is not one character/ },
    { what: 'a model corrupt past its first byte', files: { 'kokoro-v1.0.onnx': Buffer.concat([Buffer.from([0x08, 0x07]), Buffer.alloc(64, 0xff)]),
      'voices-v1.0.bin': tinyVoicesFile({ rows: 4 }) }, job: /kokoro model .*kokoro-v1\.0\.onnx: not a model ONNX Runtime can load/ },
    { what: 'inputs that are not Kokoro\'s', files: { 'kokoro-v1.0.onnx': tinyKokoroModel({ badInputs: true }), 'voices-v1.0.bin': tinyVoicesFile({ rows: 4 }) },
      job: /kokoro-v1\.0\.onnx.*inputs are not Kokoro's.*tokens \(float\)/ },
  ];
  for (const k of cases) {
    const dir = await h.tmp();
    for (const [name, body] of Object.entries(k.files)) await writeFile(join(dir, name), body);
    const s = await h.start({ workers: 1, args: ['--voices', dir] });
    const models = (await s.get('/v1/models')).json.map((m) => m.slug);
    if (k.log) {
      assert.match(s.log, k.log, k.what);
      assert.ok(!models.includes('kokoro'), `${k.what}: kokoro left out`);
    } else {
      const bad = await speak(h, s, 'This will not be spoken.', 'af_test');
      assert.equal(bad.st.status, 'error', k.what);
      assert.match(bad.st.error, k.job, k.what);
    }
    const ok = await speak(h, s, 'Espeak still speaks.', 'en-us', 'espeak');
    assert.equal(ok.st.status, 'cached', `${k.what}: ${JSON.stringify(ok.st)}`);
    await s.stop();
  }
});
