// The piper model end to end (issue 10), on the real ONNX Runtime with tiny but valid
// models (tests/data/piper/make_model.mjs: Piper's exact inputs and outputs, audio whose
// length follows the phoneme count) and Piper's standard phoneme map
// (tests/data/piper/tiny.onnx.json). No real voice can be downloaded here.
//
// One voices folder holds good voices (single speaker; multi-speaker, one voice per speaker;
// one exporting per-phoneme durations) and broken ones: a model without its .onnx.json, a
// json without phoneme_id_map, a file that is not a model, a model that is corrupt past its
// first byte, and a model whose inputs are not Piper's. The server starts, lists the good
// ones (and the two whose damage only ONNX Runtime can see), names every broken file, and
// answers each bad voice with a clear error while the others keep working.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { itest, synth, probe, run, BIN } from './harness.mjs';
import { speakBlock, checkAudio, checkTimings } from './speech_checks.mjs';
import { tinyPiperModel } from '../data/piper/make_model.mjs';

const JSON_SRC = new URL('../data/piper/tiny.onnx.json', import.meta.url);

async function voicesDir(h) {
  const dir = await h.tmp();
  const cfg = JSON.parse(await readFile(JSON_SRC, 'utf8'));
  const put = async (name, model, json = cfg) => {
    await writeFile(join(dir, `${name}.onnx`), model);
    if (json !== null) await writeFile(join(dir, `${name}.onnx.json`), typeof json === 'string' ? json : JSON.stringify(json));
  };
  await put('en_US-tiny-x_low', tinyPiperModel({ noise: true }));   // VITS-like noise: renders must still repeat
  await put('en_US-duo-x_low', tinyPiperModel({ sid: true }),
    { ...cfg, dataset: 'duo', num_speakers: 2, speaker_id_map: { alice: 0, bob: 1 } });
  await put('de_DE-tiny-x_low', tinyPiperModel({ durations: true }),
    { ...cfg, espeak: { voice: 'de' }, language: { code: 'de_DE', name_english: 'German', country_english: 'Germany' } });
  await put('broken-nojson', tinyPiperModel(), null);
  const { phoneme_id_map: _, ...nomap } = cfg;
  await put('broken-nomap', tinyPiperModel(), nomap);
  await put('broken-notmodel', Buffer.from('this is not an onnx model\n'));
  await put('broken-corrupt', Buffer.concat([Buffer.from([0x08, 0x07]), Buffer.alloc(64, 0xff)]));
  await put('broken-inputs', tinyPiperModel({ badInputs: true }));
  return dir;
}

/** Synthesizes block 0 of text with a piper voice. */
const speak = (h, s, text, voice) => speakBlock(h, s, text, 'piper', voice);

itest('piper voices are listed, speak with word timings, and broken voice files are named', async (t, h) => {
  const dir = await voicesDir(h);
  const s = await h.start({ workers: 2, args: ['--voices', dir] });

  // every broken file is named in the log; the server started anyway
  for (const f of ['broken-nojson.onnx.json', 'broken-nomap.onnx.json', 'broken-notmodel.onnx'])
    assert.match(s.log, new RegExp(`${f.replace(/\./g, '\\.')}[^\\n]*(missing|phoneme_id_map|not an ONNX model)`), f);

  const models = (await s.get('/v1/models')).json;
  const piper = models.find((m) => m.slug === 'piper');
  assert.ok(piper, `piper in ${models.map((m) => m.slug)}`);
  assert.deepEqual(piper.voices.map((v) => v.slug),
    ['broken-corrupt', 'broken-inputs', 'de_DE-tiny-x_low', 'en_US-duo-x_low:alice', 'en_US-duo-x_low:bob', 'en_US-tiny-x_low']);
  const tiny = piper.voices.find((v) => v.slug === 'en_US-tiny-x_low');
  assert.equal(tiny.lang, 'en-US');
  assert.equal(tiny.name, 'Tiny (United States, x_low)');
  assert.equal(piper.voices.find((v) => v.slug === 'en_US-duo-x_low:bob').name, 'Duo bob (United States, x_low)');
  assert.equal(piper.voices.find((v) => v.slug === 'de_DE-tiny-x_low').lang, 'de-DE');
  const listed = (await s.get('/v1/audio/voices?model=piper')).json.voices;
  assert.ok(listed.some((v) => v.id === 'en_US-duo-x_low:bob' && v.lang === 'en-US'));
  const cli = await run(BIN, ['voices', '--voices', dir]);
  assert.equal(cli.code, 0);
  assert.match(cli.stdout, /^piper\ten_US-tiny-x_low\ten-US\t/m);

  // speech: cached, decodes, duration follows the text, timings on every word
  const short = await speak(h, s, 'Good morning.', 'en_US-tiny-x_low');
  assert.equal(short.st.status, 'cached', JSON.stringify(short.st));
  await checkAudio(h, s, short.st, 'short');
  checkTimings(short.st, short.text, 'short');
  const long = await speak(h, s, 'Good morning, dear listeners. Today we read a much longer sentence, with several clauses, aloud.', 'en_US-tiny-x_low');
  assert.equal(long.st.status, 'cached', JSON.stringify(long.st));
  await checkAudio(h, s, long.st, 'long');
  checkTimings(long.st, long.text, 'long');
  assert.ok(long.st.duration_ms > 2 * short.st.duration_ms, `${long.st.duration_ms} vs ${short.st.duration_ms} ms`);

  for (const voice of ['en_US-duo-x_low:alice', 'en_US-duo-x_low:bob']) {
    const r = await speak(h, s, `A second speaker: ${voice}.`, voice);
    assert.equal(r.st.status, 'cached', `${voice}: ${JSON.stringify(r.st)}`);
  }
  const de = await speak(h, s, 'Guten Morgen! Wie geht es Ihnen heute?', 'de_DE-tiny-x_low');
  assert.equal(de.st.status, 'cached', JSON.stringify(de.st));
  checkTimings(de.st, de.text, 'de (durations output)');

  // bad voices: a clear error naming the file, and the server goes on
  const corrupt = await speak(h, s, 'This will not be spoken.', 'broken-corrupt');
  assert.equal(corrupt.st.status, 'error');
  assert.match(corrupt.st.error, /broken-corrupt\.onnx/);
  const inputs = await speak(h, s, 'Nor will this.', 'broken-inputs');
  assert.equal(inputs.st.status, 'error');
  assert.match(inputs.st.error, /broken-inputs\.onnx.*inputs are not Piper's.*text \(float\)/);
  const d = await s.createDoc('Unknown voice.', 'text');
  const c = await h.ws(s);
  c.send(synth(d.id, [0], { model: 'piper', voice: 'broken-nojson' }));
  const err = await c.waitFor((m) => m.type === 'error');
  assert.match(err.error || err.message || JSON.stringify(err), /unknown voice "broken-nojson"/);

  const again = await speak(h, s, 'Still speaking after the errors.', 'en_US-tiny-x_low');
  assert.equal(again.st.status, 'cached');
});

itest('recite say renders a piper voice to WAV at the voice\'s rate, the same every time', async (t, h) => {
  const dir = await voicesDir(h);
  const out = await h.tmp();
  const args = ['say', '--voices', dir, '--model', 'piper', '--voice', 'en_US-tiny-x_low'];
  const a = await run(BIN, [...args, '-o', join(out, 'a.wav'), 'One sentence. And a second one.']);
  assert.equal(a.code, 0, a.stderr);
  const b = await run(BIN, [...args, '-o', join(out, 'b.wav'), 'One sentence. And a second one.']);
  assert.equal(b.code, 0, b.stderr);
  const p = await probe(join(out, 'a.wav'));
  assert.equal(p.sample_rate, 22050);
  assert.ok(p.duration_s > 0.5, `${p.duration_s} s`);
  assert.deepEqual(await readFile(join(out, 'a.wav')), await readFile(join(out, 'b.wav')));
  const bad = await run(BIN, [...args.slice(0, 5), '--voice', 'nope', '-o', join(out, 'c.wav'), 'x']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unknown voice 'nope' for model piper/);
});

itest('recite voices add downloads a voice and checks its checksums, or copies a local one', async (t, h) => {
  const { createServer } = await import('node:http');
  const { createHash } = await import('node:crypto');
  const { readdir } = await import('node:fs/promises');
  const md5 = (b) => createHash('md5').update(b).digest('hex');
  const model = tinyPiperModel();
  const json = await readFile(JSON_SRC);
  const files = {
    '/en/en_US/tiny/x_low/en_US-tiny-x_low.onnx': model,
    '/en/en_US/tiny/x_low/en_US-tiny-x_low.onnx.json': json,
    '/en/en_US/bad/x_low/en_US-bad-x_low.onnx': model,
    '/en/en_US/bad/x_low/en_US-bad-x_low.onnx.json': json,
  };
  const entry = (dir, name, onnxMd5) => ({ key: name, files: {
    [`${dir}/${name}.onnx`]: { size_bytes: model.length, md5_digest: onnxMd5 ?? md5(model) },
    [`${dir}/${name}.onnx.json`]: { size_bytes: json.length, md5_digest: md5(json) },
    [`${dir}/MODEL_CARD`]: { size_bytes: 1, md5_digest: md5('x') } } });
  const list = {
    'en_US-tiny-x_low': entry('en/en_US/tiny/x_low', 'en_US-tiny-x_low'),
    'en_US-bad-x_low': entry('en/en_US/bad/x_low', 'en_US-bad-x_low', md5('something else')),
  };
  const srv = createServer((req, res) => {
    const body = req.url === '/voices.json' ? Buffer.from(JSON.stringify(list)) : files[req.url];
    res.writeHead(body ? 200 : 404).end(body ?? 'not found');
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  const url = `http://127.0.0.1:${srv.address().port}`;
  const dir = join(await h.tmp(), 'voices');   // made by the command
  const add = (name, d = dir) => run(BIN, ['voices', 'add', name, '--voices', d, '--voices-url', url]);

  const ok = await add('en_US-tiny-x_low');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /added voice en_US-tiny-x_low/);
  assert.deepEqual(await readFile(join(dir, 'en_US-tiny-x_low.onnx')), model);
  const listed = await run(BIN, ['voices', '--voices', dir]);
  assert.match(listed.stdout, /^piper\ten_US-tiny-x_low\ten-US\t/m);

  const bad = await add('en_US-bad-x_low');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /en_US-bad-x_low\.onnx: checksum mismatch/);
  assert.deepEqual((await readdir(dir)).sort(), ['en_US-tiny-x_low.onnx', 'en_US-tiny-x_low.onnx.json'],
    'nothing of the corrupt download is left');
  const unknown = await add('de_DE-nobody-low');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no voice "de_DE-nobody-low"/);
  const notName = await add('lessac');
  assert.equal(notName.code, 1);
  assert.match(notName.stderr, /"lessac" is not a Piper voice name/);

  // a local file, with and without its .onnx.json
  const src = await h.tmp();
  await writeFile(join(src, 'en_GB-copy-low.onnx'), model);
  const noJson = await add(join(src, 'en_GB-copy-low.onnx'));
  assert.equal(noJson.code, 1);
  assert.match(noJson.stderr, /en_GB-copy-low\.onnx\.json/);
  await writeFile(join(src, 'en_GB-copy-low.onnx.json'), json);
  const copied = await add(join(src, 'en_GB-copy-low.onnx'));
  assert.equal(copied.code, 0, copied.stderr);
  const after = await run(BIN, ['voices', '--voices', dir]);
  assert.match(after.stdout, /^piper\ten_GB-copy-low\t/m);
});

itest('a voice added to the folder is listed after a restart, and speaks', async (t, h) => {
  const dir = await h.tmp();
  const cfg = await readFile(JSON_SRC, 'utf8');
  await writeFile(join(dir, 'en_US-tiny-x_low.onnx'), tinyPiperModel());
  await writeFile(join(dir, 'en_US-tiny-x_low.onnx.json'), cfg);
  const slugs = async (s) => (await s.get('/v1/models')).json.find((m) => m.slug === 'piper')?.voices.map((v) => v.slug);
  const first = await h.start({ workers: 1, args: ['--voices', dir] });
  assert.deepEqual(await slugs(first), ['en_US-tiny-x_low']);
  assert.equal((await first.stop('SIGTERM')).code, 0);
  // the listener drops a second voice in the folder (a copy under another name)
  await writeFile(join(dir, 'en_GB-other-x_low.onnx'), tinyPiperModel());
  await writeFile(join(dir, 'en_GB-other-x_low.onnx.json'), cfg);
  const again = await h.start({ workers: 1, args: ['--voices', dir] });
  assert.deepEqual(await slugs(again), ['en_GB-other-x_low', 'en_US-tiny-x_low']);
  const { st } = await speak(h, again, 'A new voice speaks.', 'en_GB-other-x_low');
  assert.equal(st.status, 'cached', JSON.stringify(st));
  assert.equal(st.voice, 'en_GB-other-x_low');
});
