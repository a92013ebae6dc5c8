// tts-worker.js — the page's own speech synthesizer, in a Web Worker (never on the main
// thread): espeak-ng compiled to WebAssembly (@echogarden/espeak-ng-emscripten, vendored
// into web/vendor/espeak-ng/ from node_modules by scripts/vendor-web.mjs), then the same
// pads as the server's audio (40 ms before, 120 ms after) and its loudness (loudness.js),
// then Ogg Opus through WebCodecs' AudioEncoder and ogg-opus.js where the browser has it (a
// secure context), WAV otherwise.
//
// Messages in:  { id, text, voice, lang }     (one at a time; later ones wait their turn)
//               { warm: true }                load the engine now (voice data, compile)
// Messages out: { id, ok: true, body: ArrayBuffer, type, durationMs, words, synthMs, encodeMs }
//               { id, ok: false, error }
// words: [{ start_ms, end_ms, offset, length }], offset/length in UTF-16 units of `text`,
// from espeak-ng's word events — the same shape as the server's word_timings.
import { writeOggOpus, writeWav, preSkipOf, wordsText, WORDS_TAG } from './ogg-opus.js';
import { levelInPlace } from './loudness.js';

const PAD_START_MS = 40;     // AUDIO_PAD_START_MS / AUDIO_PAD_END_MS in src/audio/audio.h
const PAD_END_MS = 120;
const OPUS_BITRATE = 32000;

let enginePromise = null;
let currentVoice = null;

function engine() {
  if (!enginePromise) {
    enginePromise = import('./vendor/espeak-ng/espeak-ng.js')
      .then(({ default: create }) => create())
      .then((m) => ({ m, w: new m.eSpeakNGWorker() }))
      .catch((err) => {
        enginePromise = null;
        throw new Error(`the browser voices are not available (${err?.message || err})`);
      });
  }
  return enginePromise;
}

function setVoice(w, voice, lang) {
  if (voice === currentVoice) return;
  for (const name of [voice, lang, lang && lang.split('-')[0]]) {
    if (!name) continue;
    try {
      const rc = w.set_voice(name);
      if (rc === undefined || rc === 0 || rc === true) { currentVoice = voice; return; }
    } catch { /* try the next name */ }
  }
  throw new Error(`espeak-ng has no voice "${voice}"`);
}

// code point index (espeak-ng's text positions count characters from 1) -> UTF-16 offset
function codePointOffsets(text) {
  const at = [];
  let u = 0;
  for (const ch of text) { at.push(u); u += ch.length; }
  at.push(u);
  return at;
}

function wordTimings(text, events, speechMs) {
  const at = codePointOffsets(text);
  const words = events.filter((e) => e.type === 'word' && e.text_position > 0)
    .sort((a, b) => a.audio_position - b.audio_position);
  const out = [];
  for (let i = 0; i < words.length; i++) {
    const e = words[i];
    const first = Math.min(e.text_position - 1, at.length - 1);
    const last = Math.min(first + Math.max(1, e.word_length), at.length - 1);
    const start = e.audio_position;
    const end = i + 1 < words.length ? words[i + 1].audio_position : speechMs;
    if (at[last] <= at[first]) continue;
    // in text order too (the server refuses words that go back, e.g. "$5" read "five dollars")
    if (out.length && at[first] < out[out.length - 1].offset) continue;
    out.push({ start_ms: Math.round(start + PAD_START_MS), end_ms: Math.round(Math.max(start, end) + PAD_START_MS),
      offset: at[first], length: at[last] - at[first] });
  }
  return out;
}

// words: the word timings' text, carried in the file (OpusTags comment) so the server keeps
// them whatever their length.
async function encodeOpus(pcm, rate, words) {
  if (typeof AudioEncoder === 'undefined') return null;
  const config = { codec: 'opus', sampleRate: rate, numberOfChannels: 1, bitrate: OPUS_BITRATE };
  try {
    if (!(await AudioEncoder.isConfigSupported(config)).supported) return null;
  } catch { return null; }
  const packets = [];
  let description = null, failure = null;
  const enc = new AudioEncoder({
    output: (chunk, meta) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      packets.push({ data, samples: Math.round((chunk.duration || 20000) * 48 / 1000) });
      if (meta?.decoderConfig?.description) description = meta.decoderConfig.description;
    },
    error: (e) => { failure = e; },
  });
  enc.configure(config);
  enc.encode(new AudioData({ format: 's16', sampleRate: rate, numberOfFrames: pcm.length,
    numberOfChannels: 1, timestamp: 0, data: pcm }));
  await enc.flush();
  enc.close();
  if (failure || !packets.length) return null;
  const preSkip = preSkipOf(description) ?? 312;
  const total = Math.round(pcm.length * 48000 / rate);
  return writeOggOpus(packets, { preSkip, inputRate: rate, totalSamples: total,
    comments: words ? [`${WORDS_TAG}=${words}`] : [] });
}

async function synthesize({ text, voice, lang }) {
  const { w } = await engine();
  setVoice(w, voice, lang);
  const t0 = performance.now();
  const chunks = [], events = [];
  w.synthesize(text, (samples, evs) => {
    if (samples && samples.length) chunks.push(samples);
    if (evs) events.push(...evs);
    return false;   // false: go on
  });
  const rate = w.get_samplerate();
  const t1 = performance.now();
  const speech = chunks.reduce((a, c) => a + c.length, 0);
  const lead = Math.round(rate * PAD_START_MS / 1000), tail = Math.round(rate * PAD_END_MS / 1000);
  const pcm = new Int16Array(lead + speech + tail);
  let at = lead;
  for (const c of chunks) { pcm.set(c, at); at += c.length; }
  // levelled like the server's audio (-18 LUFS), so a voice sounds the same heard from
  // memory now and from the server later (which levels the upload again, by ~0 dB)
  levelInPlace(pcm, rate);
  const speechMs = speech * 1000 / rate;
  const words = wordTimings(text, events, speechMs);
  const timings = wordsText(words);
  let body = await encodeOpus(pcm, rate, timings), type = 'audio/ogg';
  if (!body) { body = writeWav(pcm, rate, { words: timings }); type = 'audio/wav'; }
  return { body, type, durationMs: Math.round(pcm.length * 1000 / rate), words,
    synthMs: t1 - t0, encodeMs: performance.now() - t1 };
}

let chain = Promise.resolve();
self.onmessage = (e) => {
  const msg = e.data || {};
  if (msg.warm) { engine().catch(() => { /* reported by the first synthesis */ }); return; }
  chain = chain.then(() => synthesize(msg)).then((r) => {
    self.postMessage({ id: msg.id, ok: true, ...r, body: r.body.buffer }, [r.body.buffer]);
  }, (err) => {
    self.postMessage({ id: msg.id, ok: false, error: String(err?.message || err) });
  });
};
