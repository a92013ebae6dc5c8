// Unit tests of web/loudness.js (the page's BS.1770 meter, a port of src/audio/loudness.c):
// the standard's calibration point, rate independence, gating, and levelling to -18 LUFS
// under the peak ceiling — and it agrees with ffmpeg's ebur128 on the same samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loudnessLufs, levelGainDb, applyGain, levelInPlace, TARGET_LUFS, CEILING_DB } from '../../web/loudness.js';
import { writeWav } from '../../web/ogg-opus.js';

const sine = (rate, seconds, peakDb, hz = 997) => {
  const a = 32767 * 10 ** (peakDb / 20);
  return Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.round(a * Math.sin(2 * Math.PI * hz * i / rate)));
};

test('a 997 Hz sine at -20 dBFS peak reads -23 LUFS (BS.1770), at 48 kHz and at espeak\'s 22,050 Hz', () => {
  assert.ok(Math.abs(loudnessLufs(sine(48000, 3, -20), 48000) + 23) < 0.1);
  assert.ok(Math.abs(loudnessLufs(sine(22050, 3, -20), 22050) + 23) < 0.15);
});

test('silence has no loudness and gets no gain; silence between words is gated out', () => {
  assert.equal(loudnessLufs(new Int16Array(22050), 22050), -Infinity);
  assert.equal(levelGainDb(new Int16Array(22050), 22050), 0);
  const s = sine(22050, 2, -20);
  const gappy = new Int16Array(s.length * 2);
  gappy.set(s, 0);   // 2 s of tone then 2 s of silence: the relative gate drops the silence
  assert.ok(Math.abs(loudnessLufs(gappy, 22050) - loudnessLufs(s, 22050)) < 0.5);
});

test('levelling brings a quiet signal to -18 LUFS, and a peaky one only up to the ceiling', () => {
  const quiet = sine(22050, 3, -30);
  applyGain(quiet, levelGainDb(quiet, 22050));
  assert.ok(Math.abs(loudnessLufs(quiet, 22050) - TARGET_LUFS) < 0.1);
  const peaky = sine(22050, 3, -30);
  peaky[1000] = 32000;   // one near-full-scale sample: the gain stops at the ceiling
  const db = levelGainDb(peaky, 22050);
  assert.ok(20 * Math.log10(32000 * 10 ** (db / 20) / 32767) <= CEILING_DB + 0.01);
});

test('agrees with ffmpeg\'s ebur128 within 0.3 LU', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recite-lufs-'));
  try {
    const s = sine(22050, 4, -12, 440);
    const f = join(dir, 's.wav');
    writeFileSync(f, writeWav(s, 22050));
    const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-i', f, '-af', 'ebur128', '-f', 'null', '-'], { encoding: 'utf8' });
    const all = [...r.stderr.matchAll(/^\s+I:\s+(-?[\d.]+) LUFS/gm)];
    assert.ok(all.length, `ebur128 summary: ${r.stderr.slice(-300)}`);
    const ff = Number(all.at(-1)[1]), ours = loudnessLufs(s, 22050);
    assert.ok(Math.abs(ff - ours) < 0.3, `ffmpeg ${ff} vs ${ours}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('levelInPlace reaches -18 LUFS past a peak with the limiter, every sample under the ceiling', () => {
  // speech-like: a quiet tone with sparse full-scale clicks (peaks the gain alone would clip)
  const s = sine(22050, 3, -19, 300);
  for (let i = 2000; i < s.length; i += 5000) s[i] = 30000;
  const plain = levelGainDb(Int16Array.from(s), 22050);
  const db = levelInPlace(s, 22050);
  assert.ok(db > plain + 1, `the limiter allows more gain (${db.toFixed(1)} > ${plain.toFixed(1)} dB)`);
  assert.ok(Math.abs(loudnessLufs(s, 22050) - TARGET_LUFS) < 0.5, `${loudnessLufs(s, 22050)}`);
  const ceil = 32767 * 10 ** (CEILING_DB / 20);
  assert.ok(s.every((x) => Math.abs(x) <= ceil + 1), 'no sample over the ceiling');
});
