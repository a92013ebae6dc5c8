// The official OpenAI Node client (npm `openai`) against POST /v1/audio/speech with its
// defaults and OpenAI's names (SPEC section 3): models tts-1, tts-1-hd, gpt-4o-mini-tts;
// the eleven voice names, mapped to the best local voices (flite here; --openai-voice-map
// changes them); all six response formats (pcm = raw 24 kHz s16le mono); `instructions`
// accepted and ignored; stream_format "audio". Each answer is decoded by ffprobe.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { itest, probe, decodes } from './harness.mjs';

const VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer', 'verse'];

const client = (s) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });

async function audio(h, res, name) {
  const bytes = Buffer.from(await res.arrayBuffer());
  const file = join(await h.tmp(), name);
  await writeFile(file, bytes);
  return { bytes, ...(await probe(file)), decodes: await decodes(file) };
}

itest('the openai client with its defaults: tts-1 and alloy give mp3 speech', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const res = await client(s).audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello from an OpenAI client.' });
  assert.equal(res.headers.get('content-type'), 'audio/mpeg');
  const a = await audio(h, res, 'alloy.mp3');
  assert.equal(a.codec, 'mp3');
  assert.ok(a.decodes && a.duration_s > 0.5, `${a.duration_s} s of speech`);

  // every OpenAI voice name and model name is accepted
  const c = client(s);
  for (const [i, voice] of VOICES.entries()) {
    const model = ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts'][i % 3];
    const r = await c.audio.speech.create({ model, voice, input: `Voice ${voice}.`, response_format: 'wav' });
    const w = await audio(h, r, `${voice}.wav`);
    assert.equal(w.codec, 'pcm_s16le', voice);
    assert.ok(w.duration_s > 0.2, `${voice}: ${w.duration_s} s`);
  }
  // the default map speaks the female names with flite's slt, the male ones with rms/awb/kal16
  const voices = (await s.get('/v1/audio/voices?model=tts-1')).json.voices;
  const alloy = voices.find((v) => v.id === 'alloy');
  assert.ok(alloy, JSON.stringify(voices.slice(0, 3)));
  assert.equal(alloy.voice, 'flite/slt');
  assert.equal(voices.find((v) => v.id === 'onyx').voice, 'flite/kal16');
});

itest('the openai client gets all six formats, with instructions and stream_format "audio"', async (t, h) => {
  const s = await h.start({ workers: 2 });
  const c = client(s);
  const input = 'Six formats from one synthesis.';
  const got = {};
  for (const [fmt, codec] of Object.entries({ mp3: 'mp3', opus: 'opus', aac: 'aac', flac: 'flac', wav: 'pcm_s16le' })) {
    const r = await c.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'nova', input, response_format: fmt,
      instructions: 'Speak in a cheerful and positive tone.', stream_format: 'audio' });
    got[fmt] = await audio(h, r, `six.${fmt}`);
    assert.equal(got[fmt].codec, codec, fmt);
    assert.ok(got[fmt].decodes, `${fmt} decodes`);
    assert.equal(got[fmt].channels, 1, fmt);
  }
  assert.equal(got.aac.format, 'aac', 'ADTS');
  assert.equal(got.flac.sample_rate, 24000);
  assert.equal(got.wav.sample_rate, 24000);
  const pcm = Buffer.from(await (await c.audio.speech.create({ model: 'tts-1', voice: 'nova', input, response_format: 'pcm' })).arrayBuffer());
  // pcm: the wav's samples without the 44-byte header (24 kHz, 16-bit, mono)
  assert.equal(pcm.length, got.wav.bytes.length - 44);
  assert.ok(pcm.equals(got.wav.bytes.subarray(44)), 'pcm is the same samples as wav');

  // a format OpenAI does not have, and server-sent events, are refused with a message
  await assert.rejects(c.audio.speech.create({ model: 'tts-1', voice: 'nova', input, response_format: 'ogg' }),
    (e) => e.status === 400 && /unsupported response_format .*ogg/.test(e.message));
  await assert.rejects(c.audio.speech.create({ model: 'tts-1', voice: 'nova', input, stream_format: 'sse' }),
    (e) => e.status === 400 && /unsupported stream_format .*sse/.test(e.message));
});

itest('--openai-voice-map sends OpenAI voice names to chosen voices', async (t, h) => {
  const s = await h.start({ workers: 1, args: ['--openai-voice-map', 'alloy=espeak:en-gb, narrator=flite:awb'] });
  const voices = (await s.get('/v1/audio/voices?model=tts-1')).json.voices;
  assert.equal(voices.find((v) => v.id === 'alloy').voice, 'espeak/en-gb');
  assert.equal(voices.find((v) => v.id === 'narrator').voice, 'flite/awb');
  assert.equal(voices.find((v) => v.id === 'nova').voice, 'flite/slt', 'unnamed voices keep their defaults');
  const r = await client(s).audio.speech.create({ model: 'tts-1', voice: 'narrator', input: 'Mapped.', response_format: 'flac' });
  assert.equal((await audio(h, r, 'n.flac')).codec, 'flac');
});
