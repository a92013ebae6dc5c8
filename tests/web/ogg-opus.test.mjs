// Unit tests of web/ogg-opus.js, the page's Ogg Opus writer: the Opus packets of a file
// made by libopusenc (`recite say`) are written again by the writer, and the result must be
// what ffprobe, opusinfo and opusdec accept as the same audio: valid pages and CRCs, OpusHead
// and OpusTags, granule positions that give the same duration and sample count. Also the WAV
// fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOggOpus, writeWav, preSkipOf, opusHead, wordsText, WORDS_TAG } from '../../web/ogg-opus.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.RECITE_BIN || resolve(here, '../../build/recite');
const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The logical packets of an Ogg stream (lacing joined across pages), plus the last granule. */
function readOgg(buf) {
  const packets = [];
  let at = 0, cur = [], granule = 0;
  while (at < buf.length) {
    assert.equal(buf.toString('latin1', at, at + 4), 'OggS');
    const nseg = buf[at + 26];
    granule = Number(buf.readBigInt64LE(at + 6));
    let body = at + 27 + nseg;
    for (let i = 0; i < nseg; i++) {
      const l = buf[at + 27 + i];
      cur.push(buf.subarray(body, body + l));
      body += l;
      if (l < 255) { packets.push(Buffer.concat(cur)); cur = []; }
    }
    at = body;
  }
  return { packets, granule };
}

/** 48 kHz samples an Opus packet decodes to, from its TOC byte (RFC 6716 section 3.1). */
function packetSamples(p) {
  const config = p[0] >> 3, code = p[0] & 3;
  const ms = config < 12 ? [10, 20, 40, 60][config % 4] : config < 16 ? [10, 20][config % 2] : [2.5, 5, 10, 20][config % 4];
  const frames = code === 0 ? 1 : code < 3 ? 2 : p[1] & 0x3f;
  return Math.round(ms * 48) * frames;
}

const dir = mkdtempSync(join(tmpdir(), 'recite-ogg-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('packets written again by the writer decode as the same audio (ffprobe, opusinfo, opusdec)', { skip: !existsSync(BIN) && 'build/recite missing' }, () => {
  const src = join(dir, 'src.ogg');
  run(BIN, ['say', '-o', src, 'The quick brown fox jumps over the lazy dog, twice, to fill a few pages.']);
  const { packets, granule } = readOgg(readFileSync(src));
  const head = packets[0], audio = packets.slice(2);
  const preSkip = preSkipOf(head);
  assert.ok(preSkip > 0, 'the source has a pre-skip');
  const out = writeOggOpus(audio.map((data) => ({ data, samples: packetSamples(data) })),
    { preSkip, totalSamples: granule - preSkip });
  const file = join(dir, 'out.ogg');
  writeFileSync(file, out);

  const probe = JSON.parse(run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', file]));
  const want = JSON.parse(run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', src]));
  assert.equal(probe.streams[0].codec_name, 'opus');
  assert.equal(probe.streams[0].channels, 1);
  assert.equal(Number(probe.format.duration).toFixed(3), Number(want.format.duration).toFixed(3), 'same duration from the granules');

  const info = run('opusinfo', [file]);
  assert.doesNotMatch(info, /WARNING|ERROR|CRC|corrupt/i, info);
  assert.match(info, /Pre-skip: \d+/);

  const a = join(dir, 'a.wav'), b = join(dir, 'b.wav');
  run('opusdec', ['--quiet', '--rate', '48000', src, a]);
  run('opusdec', ['--quiet', '--rate', '48000', file, b]);
  assert.equal(readFileSync(b).length, readFileSync(a).length, 'the same number of samples decoded');

  const pages = readFileSync(file);
  assert.equal(pages[5], 2, 'first page: beginning of stream');
  assert.ok(readOgg(pages).packets.length === audio.length + 2, 'OpusHead, OpusTags, then every packet');
  assert.equal(pages[pages.lastIndexOf('OggS') + 5], 4, 'last page: end of stream');
});

test('word timings ride in OpusTags, over several pages when long: opusinfo is clean, the comment reads back whole', { skip: !existsSync(BIN) && 'build/recite missing' }, () => {
  const src = join(dir, 'src3.ogg');
  run(BIN, ['say', '-o', src, 'A block with a very long comment.']);
  const { packets, granule } = readOgg(readFileSync(src));
  const preSkip = preSkipOf(packets[0]);
  // 6,000 words: ~150 KB, three pages of tags (a page holds 65,025 bytes)
  const words = Array.from({ length: 6000 }, (_, i) => ({ start_ms: i * 300, end_ms: i * 300 + 250, offset: i * 6, length: 5 }));
  const text = wordsText(words);
  assert.ok(text.length > 2 * 255 * 255);
  const out = writeOggOpus(packets.slice(2).map((data) => ({ data, samples: packetSamples(data) })),
    { preSkip, totalSamples: granule - preSkip, comments: [`${WORDS_TAG}=${text}`] });
  const file = join(dir, 'tags.ogg');
  writeFileSync(file, out);
  const info = run('opusinfo', [file]);
  assert.doesNotMatch(info, /WARNING|ERROR|CRC|corrupt/i, info.slice(0, 500));
  const back = readOgg(Buffer.from(out)).packets[1];
  assert.equal(back.toString('latin1', 0, 8), 'OpusTags');
  assert.ok(back.toString('latin1').endsWith(`${WORDS_TAG}=${text}`), 'the comment whole, at the end of OpusTags');
  // the pages: OpusHead, three of tags (the first two continue: granule -1), then audio
  const flags = [], granules = [];
  for (let at = 0; at < out.length;) {
    flags.push(out[at + 5]);
    granules.push(Buffer.from(out).readBigInt64LE(at + 6));
    const nseg = out[at + 26];
    at += 27 + nseg + out.subarray(at + 27, at + 27 + nseg).reduce((a, b) => a + b, 0);
  }
  assert.deepEqual(flags.slice(0, 4), [2, 0, 1, 1]);
  assert.deepEqual(granules.slice(1, 4), [-1n, -1n, 0n]);
  const dur = JSON.parse(run('ffprobe', ['-v', 'error', '-show_format', '-of', 'json', file])).format.duration;
  const want = JSON.parse(run('ffprobe', ['-v', 'error', '-show_format', '-of', 'json', src])).format.duration;
  assert.equal(Number(dur).toFixed(3), Number(want).toFixed(3));
});

test('a flipped byte breaks the CRC, which opusinfo reports (the CRC is real)', { skip: !existsSync(BIN) && 'build/recite missing' }, () => {
  const src = join(dir, 'src2.ogg');
  run(BIN, ['say', '-o', src, 'Short.']);
  const { packets } = readOgg(readFileSync(src));
  const out = writeOggOpus(packets.slice(2).map((data) => ({ data, samples: packetSamples(data) })));
  out[out.length - 3] ^= 0xff;
  const file = join(dir, 'bad.ogg');
  writeFileSync(file, out);
  let text;
  try { text = run('opusinfo', [file]); } catch (e) { text = `${e.stdout}${e.stderr}`; }
  assert.match(text, /checksum|CRC|corrupt|hole/i);
});

test('OpusHead fields and the pre-skip reader', () => {
  const h = opusHead({ channels: 1, preSkip: 3840, inputRate: 22050 });
  assert.equal(new TextDecoder().decode(h.subarray(0, 8)), 'OpusHead');
  assert.equal(h[9], 1);
  assert.equal(preSkipOf(h), 3840);
  assert.equal(new DataView(h.buffer).getUint32(12, true), 22050);
  assert.equal(preSkipOf(new Uint8Array(4)), null);
  assert.throws(() => writeOggOpus([]), /no Opus packets/);
});

test('the WAV fallback is a 16-bit mono PCM file ffprobe reads with the right length', () => {
  const rate = 22050, n = rate / 2;
  const s = new Int16Array(n).map((_, i) => Math.round(8000 * Math.sin(i / 5)));
  const file = join(dir, 'x.wav');
  writeFileSync(file, writeWav(s, rate));
  const p = JSON.parse(run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file])).streams[0];
  assert.equal(p.codec_name, 'pcm_s16le');
  assert.equal(Number(p.sample_rate), rate);
  assert.equal(p.channels, 1);
  assert.equal(Number(p.duration_ts), n);
});

test('the WAV fallback carries word timings in a "word" chunk after the samples; ffprobe still reads the same audio', () => {
  const rate = 22050, n = rate / 2;
  const s = new Int16Array(n).map((_, i) => Math.round(8000 * Math.sin(i / 5)));
  const words = '0 100 0 5,100 250 6 3';   // odd length: a pad byte follows
  const out = writeWav(s, rate, { words });
  const dv = new DataView(out.buffer);
  assert.equal(dv.getUint32(4, true), out.length - 8, 'the RIFF size covers the extra chunk');
  const at = 44 + n * 2;
  assert.equal(new TextDecoder().decode(out.subarray(at, at + 4)), 'word');
  assert.equal(new TextDecoder().decode(out.subarray(at + 8, at + 8 + dv.getUint32(at + 4, true))), words);
  assert.equal(out.length % 2, 0);
  const file = join(dir, 'w.wav');
  writeFileSync(file, out);
  const p = JSON.parse(run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file])).streams[0];
  assert.equal(Number(p.duration_ts), n);
});
