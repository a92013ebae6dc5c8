// ogg-opus.js — Opus packets into an Ogg Opus file (RFC 7845 over RFC 3533), for the audio
// the page synthesizes itself: WebCodecs' AudioEncoder gives raw Opus packets and writes
// no container. Pure (no DOM), so node tests it and ffprobe/opusinfo check its output.
//
// Pages: the OpusHead page (beginning of stream), the OpusTags page(s) (a long comment, e.g.
// a block's word timings, continues over as many pages as it needs), then audio pages of
// up to PAGE_TARGET bytes, the last flagged end of stream. A page's granule position is the
// count of 48 kHz samples decoded up to the end of its last packet — the pre-skip is in the
// first packets, so it counts; the last page's granule is pre-skip + the real sample count,
// so a decoder trims the encoder's padding at the end (RFC 7845 section 4). Each page carries its CRC-32
// (polynomial 0x04c11db7, not reflected, initial 0).

const PAGE_TARGET = 4000;   // bytes of packet data per audio page (a few hundred ms of speech)

let crcTable = null;
function crc32(bytes) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let r = i << 24;
      for (let j = 0; j < 8; j++) r = (r & 0x80000000) ? ((r << 1) ^ 0x04c11db7) : (r << 1);
      crcTable[i] = r >>> 0;
    }
  }
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ bytes[i]) & 0xff]) >>> 0;
  return crc >>> 0;
}

function lacingOf(n) {
  const lacing = [];
  while (n >= 255) { lacing.push(255); n -= 255; }
  lacing.push(n);
  return lacing;
}

// One page holding `packets` (each Uint8Array, complete on this page unless `lacing` says
// otherwise: a part of a packet that goes on is 255 segments of 255).
function page({ packets, granule, serial, seq, bos = false, eos = false, continued = false,
  lacing = packets.flatMap((p) => lacingOf(p.length)) }) {
  if (lacing.length > 255) throw new Error('too many segments for one Ogg page');
  const bodyLen = packets.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(27 + lacing.length + bodyLen);
  const dv = new DataView(out.buffer);
  out.set([0x4f, 0x67, 0x67, 0x53], 0);   // "OggS"
  out[4] = 0;                              // version
  out[5] = (continued ? 1 : 0) | (bos ? 2 : 0) | (eos ? 4 : 0);
  dv.setBigInt64(6, BigInt(granule), true);
  dv.setUint32(14, serial, true);
  dv.setUint32(18, seq, true);
  dv.setUint32(22, 0, true);
  out[26] = lacing.length;
  out.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const p of packets) { out.set(p, at); at += p.length; }
  dv.setUint32(22, crc32(out), true);
  return out;
}

// One header packet over as many pages as it takes (255 segments of 255 bytes a page): the
// pages it does not end on have granule -1 (no packet ends there, RFC 3533), the next ones
// are flagged continued. Returns [pages, next seq].
function packetPages(packet, { granule, serial, seq }) {
  const pages = [];
  const perPage = 255 * 255;
  let at = 0, first = true;
  for (;;) {
    const left = packet.length - at;
    // a page holds a complete end when fewer than 255 segments describe the rest
    if (left < perPage) {
      pages.push(page({ packets: [packet.subarray(at)], granule, serial, seq: seq++, continued: !first }));
      return [pages, seq];
    }
    pages.push(page({ packets: [packet.subarray(at, at + perPage)], lacing: new Array(255).fill(255),
      granule: -1, serial, seq: seq++, continued: !first }));
    at += perPage;
    first = false;
  }
}

// The text of a block's word timings, as the server reads them from an upload's body (the
// OpusTags comment WORDS_TAG, or the WAV chunk "word") or from X-Word-Timings: "START END
// OFFSET LENGTH" per word (ms in this audio, UTF-16 units of the block text), commas between.
export const WORDS_TAG = 'RECITE_WORD_TIMINGS';
export function wordsText(words) {
  return (words || []).map((w) => `${w.start_ms} ${w.end_ms} ${w.offset} ${w.length}`).join(',');
}

export function opusHead({ channels = 1, preSkip = 312, inputRate = 48000, gainQ8 = 0 } = {}) {
  const h = new Uint8Array(19);
  const dv = new DataView(h.buffer);
  h.set(new TextEncoder().encode('OpusHead'), 0);
  h[8] = 1;                         // version
  h[9] = channels;
  dv.setUint16(10, preSkip, true);
  dv.setUint32(12, inputRate, true);
  dv.setInt16(16, gainQ8, true);
  h[18] = 0;                        // channel mapping family 0: mono or stereo
  return h;
}

// comments: ["KEY=value", ...] (RFC 7845 section 5.2: UTF-8, length-prefixed).
export function opusTags(vendor = 'recite web', comments = []) {
  const enc = new TextEncoder();
  const v = enc.encode(vendor);
  const cs = comments.map((c) => enc.encode(c));
  const t = new Uint8Array(8 + 4 + v.length + 4 + cs.reduce((a, c) => a + 4 + c.length, 0));
  const dv = new DataView(t.buffer);
  t.set(enc.encode('OpusTags'), 0);
  dv.setUint32(8, v.length, true);
  t.set(v, 12);
  let at = 12 + v.length;
  dv.setUint32(at, cs.length, true);
  at += 4;
  for (const c of cs) {
    dv.setUint32(at, c.length, true);
    t.set(c, at + 4);
    at += 4 + c.length;
  }
  return t;
}

// The pre-skip from an encoder's OpusHead (AudioEncoder's decoderConfig.description), or null.
export function preSkipOf(description) {
  if (!description) return null;
  const b = description instanceof Uint8Array ? description
    : new Uint8Array(ArrayBuffer.isView(description) ? description.buffer : description);
  if (b.length < 19 || new TextDecoder().decode(b.subarray(0, 8)) !== 'OpusHead') return null;
  return b[10] | (b[11] << 8);
}

/**
 * packets: [{ data: Uint8Array, samples: n }] in order, `samples` the 48 kHz samples each
 * decodes to (960 for 20 ms frames). totalSamples: the real audio length at 48 kHz, without
 * the pre-skip (the last packet's padding is cut); defaults to all of it. comments: OpusTags
 * user comments ("KEY=value"). Returns the file.
 */
export function writeOggOpus(packets, { channels = 1, preSkip = 312, inputRate = 48000,
  totalSamples, serial = (Math.random() * 0xffffffff) >>> 0, comments = [] } = {}) {
  if (!packets.length) throw new Error('no Opus packets to write');
  const pages = [];
  let seq = 0;
  pages.push(page({ packets: [opusHead({ channels, preSkip, inputRate })], granule: 0, serial, seq: seq++, bos: true }));
  const [tagPages, next] = packetPages(opusTags(undefined, comments), { granule: 0, serial, seq });
  pages.push(...tagPages);
  seq = next;
  // Granules count every decoded sample, the pre-skip included (it is in the first packets).
  const sum = packets.reduce((a, p) => a + p.samples, 0);
  const end = Math.min(sum, preSkip + (totalSamples ?? sum - preSkip));
  let cur = [], bytes = 0, segs = 0, granule = 0;
  const flush = (last) => {
    pages.push(page({ packets: cur.map((p) => p.data), granule: last ? end : granule, serial, seq: seq++, eos: last }));
    cur = []; bytes = 0; segs = 0;
  };
  packets.forEach((p, i) => {
    const need = Math.floor(p.data.length / 255) + 1;
    if (cur.length && (bytes + p.data.length > PAGE_TARGET || segs + need > 255)) flush(false);
    cur.push(p);
    bytes += p.data.length;
    segs += need;
    granule += p.samples;
    if (i === packets.length - 1) flush(true);
  });
  const total = pages.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pages) { out.set(p, at); at += p.length; }
  return out;
}

// A 16-bit PCM WAV (the fallback where WebCodecs cannot encode Opus, e.g. no secure context).
// words: the word timings' text, put in a "word" chunk after the samples (RIFF readers skip
// chunks they do not know).
export function writeWav(samples, rate, { words = '' } = {}) {
  const w = new TextEncoder().encode(words);
  const extra = w.length ? 8 + w.length + (w.length & 1) : 0;
  const out = new Uint8Array(44 + samples.length * 2 + extra);
  const dv = new DataView(out.buffer);
  const ascii = (at, s) => { for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i); };
  ascii(0, 'RIFF'); dv.setUint32(4, 36 + samples.length * 2 + extra, true); ascii(8, 'WAVE');
  ascii(12, 'fmt '); dv.setUint32(16, 16, true); dv.setUint16(20, 1, true); dv.setUint16(22, 1, true);
  dv.setUint32(24, rate, true); dv.setUint32(28, rate * 2, true); dv.setUint16(32, 2, true); dv.setUint16(34, 16, true);
  ascii(36, 'data'); dv.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) dv.setInt16(44 + 2 * i, samples[i], true);
  if (w.length) {
    const at = 44 + samples.length * 2;
    ascii(at, 'word'); dv.setUint32(at + 4, w.length, true);
    out.set(w, at + 8);
  }
  return out;
}
