// OpenAI compatibility, both ways (SPEC sections 3 and 6). As a server: POST
// /v1/audio/speech in every format from the same cache as the reader, GET
// /v1/audio/voices, and 400s with a message for bad input. As a client: the `openai` model
// pointed at a second recite process (no mock) — voices from the upstream's list, audio
// through the upstream, the upstream's Ogg Opus kept as is, its 503s retried, and an
// upstream that is down turning into a clear recoverable error while the server keeps
// serving.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import net from 'node:net';
import { itest, synth, probe, decodes, freePort, sleep, range, eventually } from './harness.mjs';
import { rtest } from './redis_harness.mjs';

const speech = (s, body) => s.post('/v1/audio/speech', { json: body });

/** Waits until pred(value of the metric `name`) holds; returns the value (a hang guard). */
function waitMetric(s, name, pred, what) {
  return eventually(async () => {
    const v = (await s.metrics())[name];
    return pred(v) ? { v } : null;
  }, what).then((r) => r.v);
}

async function probeBytes(h, bytes, name) {
  const file = join(await h.tmp(), name);
  await writeFile(file, bytes);
  return { ...(await probe(file)), decodes: await decodes(file) };
}

itest('POST /v1/audio/speech answers every format from the reader\'s cache', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const input = 'The speech endpoint and the reader share one cache.';
  // the reader synthesizes the block first
  const d = await s.createDoc(input, 'text');
  const c = await h.ws(s);
  c.send(synth(d.id, [0], { model: 'flite', voice: 'rms' }));
  const st = (await c.waitFinal(d.id, [0])).get(0).at(-1);
  assert.equal(st.status, 'cached');
  const stored = (await s.get(st.audio_url)).body;
  const before = await s.metrics();

  const opus = await speech(s, { model: 'flite', input, voice: 'rms', response_format: 'opus' });
  assert.equal(opus.status, 200, opus.text);
  assert.equal(opus.headers.get('content-type'), 'audio/ogg');
  assert.ok(opus.body.equals(stored), 'opus at speed 1 is the stored audio itself');
  assert.equal(Number(opus.headers.get('x-duration-ms')), st.duration_ms);

  const expect = { mp3: ['audio/mpeg', 'mp3'], wav: ['audio/wav', 'pcm_s16le'], aac: ['audio/aac', 'aac'],
    flac: ['audio/flac', 'flac'] };
  for (const [fmt, [ctype, codec]] of Object.entries(expect)) {
    const r = await speech(s, { model: 'flite', input, voice: 'rms', response_format: fmt });
    assert.equal(r.status, 200, `${fmt}: ${r.text}`);
    assert.equal(r.headers.get('content-type'), ctype);
    const p = await probeBytes(h, r.body, `x.${fmt}`);
    assert.equal(p.codec, codec, fmt);
    assert.equal(p.sample_rate, 24000, fmt);
    assert.ok(p.decodes, `${fmt} decodes`);
    // ADTS has no length field: ffprobe estimates it from the bit rate, and AAC adds its
    // encoder delay (1024 samples) and pads the last frame
    const slack = fmt === 'aac' ? 250 : 120;
    assert.ok(Math.abs(p.duration_s * 1000 - st.duration_ms) < slack, `${fmt}: ${p.duration_s} s vs ${st.duration_ms} ms`);
  }
  const pcm = await speech(s, { model: 'flite', input, voice: 'rms', response_format: 'pcm' });
  assert.equal(pcm.status, 200);
  assert.equal(pcm.headers.get('content-type'), 'audio/pcm');
  assert.ok(Math.abs(pcm.body.length / 2 / 24 - st.duration_ms) < 30, '24 kHz 16-bit mono');
  // OpenAI's default format is mp3; OpenAI's model names mean the default model (espeak)
  const def = await speech(s, { model: 'tts-1', input: 'Default format.', voice: 'en-us' });
  assert.equal(def.status, 200, def.text);
  assert.equal(def.headers.get('content-type'), 'audio/mpeg');

  const after = await s.metrics();
  assert.equal(after.recite_syntheses_total, before.recite_syntheses_total + 1,
    'only the tts-1 request synthesized: the rest came from the cache');

  // speed: pitch-preserving, from the same stored audio
  const fast = await speech(s, { model: 'flite', input, voice: 'rms', response_format: 'wav', speed: 2 });
  assert.equal(fast.status, 200, fast.text);
  const pf = await probeBytes(h, fast.body, 'fast.wav');
  assert.ok(Math.abs(pf.duration_s * 1000 - st.duration_ms / 2) < 120, `speed 2: ${pf.duration_s} s`);
  assert.equal((await s.metrics()).recite_syntheses_total, after.recite_syntheses_total);
});

itest('POST /v1/audio/speech synthesizes what is not cached, without blocking the server', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const inputs = range(0, 6).map((i) => `Request number ${i} arrives while others wait.`);
  // six at once, plus a request to another endpoint that must not wait for them
  const pending = inputs.map((input) => speech(s, { model: 'espeak', input, voice: 'en-gb', response_format: 'opus' }));
  const health = await s.get('/healthz');
  assert.equal(health.status, 200);
  const results = await Promise.all(pending);
  for (const r of results) {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.subarray(0, 4).toString(), 'OggS');
  }
  // identical concurrent requests are one synthesis
  const before = (await s.metrics()).recite_syntheses_total;
  const same = await Promise.all(range(0, 4).map(() => speech(s,
    { model: 'espeak', input: 'Four of us asked at once.', voice: 'en-gb', response_format: 'mp3' })));
  for (const r of same) assert.equal(r.status, 200);
  assert.equal((await s.metrics()).recite_syntheses_total, before + 1);
});

itest('a speech request whose client gives up is dropped from the queue', async (t, h) => {
  const s = await h.start({ workers: 0 });   // nothing runs: the request can only wait
  const r = speech(s, { model: 'espeak', input: 'Nobody will hear this.', voice: 'en-us' });
  // (waited for, not polled a fixed number of times: that was a timing threshold in disguise)
  await waitMetric(s, 'recite_jobs_queued', (v) => v >= 1, 'the request to be queued');
  assert.equal((await s.metrics()).recite_jobs_queued, 1, 'the request waits on a queued job');
  const ac = new AbortController();
  const aborted = fetch(`${s.url}/v1/audio/speech`, { method: 'POST', signal: ac.signal,
    body: JSON.stringify({ model: 'espeak', input: 'Me neither.', voice: 'en-us' }) });
  await waitMetric(s, 'recite_jobs_queued', (v) => v >= 2, 'the second request to be queued');
  assert.equal((await s.metrics()).recite_jobs_queued, 2);
  ac.abort();
  await assert.rejects(aborted, /abort/i);
  // the server drops the job once it notices the closed connection: wait for that
  await waitMetric(s, 'recite_jobs_queued', (v) => v <= 1, 'the abandoned request\'s job to go');
  assert.equal((await s.metrics()).recite_jobs_queued, 1, 'the abandoned request\'s job is gone, the other waits');
  r.catch(() => {});   // still pending when the server stops
});

itest('conversions whose clients hang up are dropped, and the server keeps converting', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const input = 'A conversion nobody waits for any more.';
  const first = await speech(s, { model: 'espeak', input, voice: 'en-us', response_format: 'opus' });
  assert.equal(first.status, 200, first.text);   // stored: what follows are conversions only
  // Twenty clients send a request that needs a conversion (offload pool) and hang up at
  // once: each completion then finds its waiter gone and must only free its result.
  const body = JSON.stringify({ model: 'espeak', input, voice: 'en-us', response_format: 'mp3', speed: 0.5 });
  const req = `POST /v1/audio/speech HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  await Promise.all(range(0, 20).map(() => new Promise((resolve, reject) => {
    const sock = net.connect(s.port, '127.0.0.1', () => sock.end(req, () => { sock.destroy(); resolve(); }));
    sock.on('error', reject);
  })));
  // the server is alive and answers the same conversion to a client that stays
  const r = await speech(s, { model: 'espeak', input, voice: 'en-us', response_format: 'mp3', speed: 0.5 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('content-type'), 'audio/mpeg');
  const p = await probeBytes(h, r.body, 'slow.mp3');
  assert.ok(p.decodes);
  assert.equal((await s.get('/healthz')).status, 200);
});

itest('POST /v1/audio/speech rejects bad input with 400 and a message', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const ok = { model: 'espeak', input: 'Hello.', voice: 'en-us', response_format: 'opus' };
  const cases = [
    ['unknown voice', { ...ok, voice: 'nobody' }, /unknown voice/],
    ['empty input', { ...ok, input: '' }, /input/],
    ['blank input', { ...ok, input: ' \n\t ' }, /input/],
    ['4 MB input', { ...ok, input: 'word '.repeat(800_000) }, /maximum is 4096/],
    ['unknown format', { ...ok, response_format: 'ogg' }, /response_format/],
    ['format not a string', { ...ok, response_format: 3 }, /response_format/],
    ['unknown model', { ...ok, model: 'nope' }, /unknown model/],
    ['input missing', { model: 'espeak', voice: 'en-us' }, /input/],
    ['input a number', { ...ok, input: 42 }, /input/],
    ['voice missing', { model: 'espeak', input: 'Hi.' }, /voice/],
    ['speed too high', { ...ok, speed: 9 }, /speed/],
    ['speed a string', { ...ok, speed: 'fast' }, /speed/],
  ];
  for (const [name, body, re] of cases) {
    const r = await speech(s, body);
    assert.equal(r.status, 400, `${name}: ${r.status} ${r.text.slice(0, 200)}`);
    assert.match(r.json?.error ?? '', re, name);
  }
  const notJson = await s.post('/v1/audio/speech', { body: 'model=espeak', headers: { 'content-type': 'text/plain' } });
  assert.equal(notJson.status, 400);
  assert.ok(notJson.json.error);
  assert.equal((await s.get('/v1/audio/speech')).status, 405);
  assert.equal((await s.metrics()).recite_syntheses_total, 0, 'nothing was synthesized');
  // and the server is fine
  assert.equal((await speech(s, ok)).status, 200);
});

itest('GET /v1/audio/voices lists voices by model', async (t, h) => {
  const s = await h.start();
  const all = (await s.get('/v1/audio/voices')).json.voices;
  assert.ok(all.some((v) => v.model === 'espeak' && v.id === 'de' && v.lang === 'de'));
  assert.ok(all.some((v) => v.model === 'flite' && v.id === 'slt' && v.name));
  const fl = (await s.get('/v1/audio/voices?model=flite')).json.voices;
  assert.deepEqual(fl.map((v) => v.id).sort(), ['awb', 'kal', 'kal16', 'rms', 'slt']);
  assert.ok(fl.every((v) => v.model === 'flite'));
  assert.equal((await s.get('/v1/audio/voices?model=nope')).status, 400);
});

itest('the openai model speaks through a second recite, on threads of its own', async (t, h) => {
  const up = await h.start({ workers: 2 });
  // --workers 0: no CPU workers at all, so whatever gets synthesized ran on the openai pool
  const s = await h.start({ workers: 0, args: ['--openai-url', `${up.url}/v1`, '--openai-model', 'flite',
    '--openai-concurrency', '3'] });
  const models = (await s.get('/v1/models')).json;
  const openai = models.find((m) => m.slug === 'openai');
  assert.ok(openai, 'the openai model is listed');
  assert.deepEqual(openai.voices.map((v) => v.slug).sort(), ['awb', 'kal', 'kal16', 'rms', 'slt'],
    'voices from the upstream\'s GET /v1/audio/voices');
  assert.equal(openai.voices.find((v) => v.slug === 'awb').lang, 'en-GB-scotland');

  const d = await s.createDoc('First block.\n\nSecond block, a little longer.\n\nThird block.\n\nFourth.', 'markdown');
  const c = await h.ws(s);
  c.send(synth(d.id, [0, 1, 2, 3], { model: 'openai', voice: 'rms' }));
  const hist = await c.waitFinal(d.id, [0, 1, 2, 3], { timeoutMs: 30_000 });
  for (const [i, list] of hist) {
    const st = list.at(-1);
    assert.equal(st.status, 'cached', `block ${i}: ${JSON.stringify(list)}`);
    assert.equal(st.model, 'openai');
    const a = await s.get(st.audio_url);
    const p = await probeBytes(h, a.body, `b${i}.ogg`);
    assert.equal(p.codec, 'opus');
    assert.equal(p.channels, 1);
    assert.ok(p.decodes);
    assert.ok(Math.abs(p.duration_s * 1000 - st.duration_ms) < 60, `block ${i} duration`);
  }
  assert.equal((await up.metrics()).recite_syntheses_total, 4, 'the upstream synthesized them');
  // the upstream's Ogg Opus is kept, not re-encoded: same packets, only the header's
  // output gain (and the first page's CRC) may differ
  const doc = await s.getDoc(d.id);
  const mine = (await s.get(hist.get(1).at(-1).audio_url)).body;
  const theirs = (await speech(up, { model: 'flite', input: doc.blocks[1].text, voice: 'rms', response_format: 'opus' })).body;
  assert.equal(mine.length, theirs.length);
  const differ = [];
  for (let i = 0; i < mine.length; i++) if (mine[i] !== theirs[i]) differ.push(i);
  assert.ok(differ.every((i) => (i >= 22 && i < 26) || i === 44 || i === 45), `bytes differ at ${differ.slice(0, 10)}`);

  // recite as a client of itself through its own OpenAI endpoint
  const r = await speech(s, { model: 'openai', input: 'Chained twice.', voice: 'slt', response_format: 'wav' });
  assert.equal(r.status, 200, r.text);
  assert.equal((await probeBytes(h, r.body, 'chain.wav')).codec, 'pcm_s16le');
});

rtest('an upstream 503 is retried with backoff until it succeeds', async (t, h, r) => {
  // The upstream takes one speech request at a time (--speech-max-pending 1) and answers
  // others 503 with Retry-After, as a busy server does. It queues its jobs in Redis and has
  // no worker until the test starts one, so the request that keeps it busy cannot finish
  // before the downstream has been refused and has logged its retry, however slow the
  // machine: the test decides when the upstream has room, instead of racing a synthesis
  // against the downstream's retry budget.
  const redis = await r.redis();
  const up = await r.server(redis, { args: ['--speech-max-pending', '1'] });
  const s = await h.start({ workers: 1, args: ['--openai-url', `${up.url}/v1`, '--openai-model', 'espeak',
    '--openai-voices', 'en-us:en-US,de:de', '--openai-retries', '6'] });
  const models = (await s.get('/v1/models')).json;
  assert.deepEqual(models.find((m) => m.slug === 'openai').voices,
    [{ slug: 'en-us', name: 'En-us', lang: 'en-US' }, { slug: 'de', name: 'De', lang: 'de' }]);

  // occupy the upstream's one speech slot with a request that waits for a worker
  const busy = speech(up, { model: 'espeak', input: 'This request keeps the upstream busy.',
    voice: 'en-us', response_format: 'mp3' });
  await waitMetric(up, 'recite_jobs_queued', (v) => v >= 1, 'the upstream to queue the busy request');

  const d = await s.createDoc('Retried until the upstream had room.', 'text');
  const c = await h.ws(s);
  c.send(synth(d.id, [0], { model: 'openai', voice: 'en-us' }));
  // refused while busy: the retry and the upstream's reason are logged
  await eventually(() => /answered 503 \(the server is busy.*; retry 1 of 6/.test(s.log),
    'the downstream to log its first retry of the upstream\'s 503');
  // now the upstream gets room: a worker finishes the busy request, then the retried one
  await r.worker(redis);
  const st = (await c.waitFinal(d.id, [0])).get(0).at(-1);
  assert.equal(st.status, 'cached', JSON.stringify(st));
  assert.equal((await busy).status, 200);
  assert.match(s.log, /answered 503 \(the server is busy.*; retry 1 of 6/, 'the retry and the upstream reason are logged');
});

itest('an upstream that is down is a recoverable error, and the server keeps serving', async (t, h) => {
  const port = await freePort();   // nothing listens there
  const s = await h.start({ workers: 1, args: ['--openai-url', `http://127.0.0.1:${port}/v1`,
    '--openai-voices', 'alloy,nova'] });
  const d = await s.createDoc('Nobody answers upstream.\n\nBut espeak still speaks.', 'markdown');
  const c = await h.ws(s);
  c.send(synth(d.id, [0], { model: 'openai', voice: 'alloy' }));
  const st = (await c.waitFinal(d.id, [0])).get(0).at(-1);
  assert.equal(st.status, 'error', JSON.stringify(st));
  assert.equal(st.recoverable, true);
  assert.match(st.error, /cannot reach the speech server/);
  // (no timing threshold: waitFinal's hang guard bounds how long the error may take)
  // curl 7 says "Couldn't connect" (Debian 12), curl 8 "Could not connect" (Debian 13)
  assert.match(s.log, /openai: http:\/\/127\.0\.0\.1:\d+\/v1\/audio\/speech: Could(n't| not) connect/);
  // the rest of the server is untouched
  c.send(synth(d.id, [1]));
  assert.equal((await c.waitFinal(d.id, [1])).get(1).at(-1).status, 'cached');
  assert.equal((await s.get('/healthz')).status, 200);
  const r = await speech(s, { model: 'openai', input: 'Still nobody.', voice: 'nova', response_format: 'mp3' });
  assert.equal(r.status, 502);
  assert.match(r.json.error, /speech server/);

  // started while the upstream is down and without --openai-voices: the standard names
  const s2 = await h.start({ workers: 1, args: ['--openai-url', `http://127.0.0.1:${port}/v1`] });
  const oa = (await s2.get('/v1/models')).json.find((m) => m.slug === 'openai');
  assert.ok(oa.voices.some((v) => v.slug === 'alloy'));
  assert.match(s2.log, /cannot list the voices/);
});
