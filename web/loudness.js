// loudness.js — ITU-R BS.1770 integrated loudness of mono 16-bit PCM and the gain that
// levels it, the page's port of src/audio/loudness.c (same K-weighting designed for the
// signal's own rate, 400 ms blocks with 75 % overlap, gates at -70 LUFS and -10 LU), so a
// block synthesized in this browser plays at the level the server gives every voice.
// Pure; used by tts-worker.js, tested in node.

export const TARGET_LUFS = -18;      // AUDIO_LOUDNESS_TARGET
export const CEILING_DB = -1.5;      // AUDIO_LOUDNESS_CEILING_DB (sample peak after levelling)
export const MAX_GAIN_DB = 30;       // AUDIO_LOUDNESS_MAX_GAIN_DB

function biquad(b0, b1, b2, a1, a2) {
  let z1 = 0, z2 = 0;
  return (x) => {
    const y = b0 * x + z1;
    z1 = b1 * x - a1 * y + z2;
    z2 = b2 * x - a2 * y;
    return y;
  };
}

function kFilters(rate) {
  let f0 = 1681.974450955533, q = 0.7071752369554196;
  const g = 3.999843853973347;
  let k = Math.tan(Math.PI * f0 / rate);
  const vh = 10 ** (g / 20), vb = vh ** 0.4996667741545416;
  let a0 = 1 + k / q + k * k;
  const shelf = biquad((vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
    2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0);
  f0 = 38.13547087602444;
  q = 0.5003270373238773;
  k = Math.tan(Math.PI * f0 / rate);
  a0 = 1 + k / q + k * k;
  const hp = biquad(1, -2, 1, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0);
  return (x) => hp(shelf(x));
}

const toLufs = (ms) => (ms > 0 ? -0.691 + 10 * Math.log10(ms) : -Infinity);

export function loudnessLufs(samples, rate) {
  if (!samples?.length || !(rate > 0)) return -Infinity;
  const step = Math.floor(rate / 10);
  const nsteps = Math.floor(samples.length / step);
  const e = new Float64Array(Math.max(1, nsteps));
  const k = kFilters(rate);
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const y = k(samples[i] / 32768);
    total += y * y;
    const s = Math.floor(i / step);
    if (s < nsteps) e[s] += y * y;
  }
  if (nsteps < 4) return toLufs(total / samples.length);   // shorter than one gating block
  const blocks = [];
  for (let b = 0; b + 4 <= nsteps; b++) blocks.push((e[b] + e[b + 1] + e[b + 2] + e[b + 3]) / (4 * step));
  const gated = blocks.filter((z) => toLufs(z) > -70);
  if (!gated.length) return -Infinity;
  const rel = toLufs(gated.reduce((a, z) => a + z, 0) / gated.length) - 10;
  const kept = gated.filter((z) => toLufs(z) > rel);
  return kept.length ? toLufs(kept.reduce((a, z) => a + z, 0) / kept.length) : -Infinity;
}

const LIMIT_MAX_DB = 6;    // most gain reduction the limiter gives (loudness.c's LIMIT_MAX_DB)

/**
 * Levels samples (in place) to `target` LUFS: the gain (at most MAX_GAIN_DB) that reaches
 * it, with a limiter holding every sample under the CEILING_DB peak — the gain ramps down
 * linearly over 5 ms before a peak and recovers over 50 ms after it, and never cuts more
 * than LIMIT_MAX_DB (a louder target is given up instead). Returns the gain applied (dB).
 */
export function levelInPlace(samples, rate, target = TARGET_LUFS) {
  const l = loudnessLufs(samples, rate);
  if (!Number.isFinite(l)) return 0;
  let peak = 1;
  for (let i = 0; i < samples.length; i++) { const a = Math.abs(samples[i]); if (a > peak) peak = a; }
  const room = CEILING_DB - 20 * Math.log10(peak / 32767);
  const db = Math.min(target - l, MAX_GAIN_DB, room + LIMIT_MAX_DB);
  const g = 10 ** (db / 20), ceil = 32767 * 10 ** (CEILING_DB / 20);
  const n = samples.length, env = new Float64Array(n);
  const down = 1 / Math.max(1, Math.round(rate * 0.005)), up = 1 / Math.max(1, Math.round(rate * 0.05));
  for (let i = n - 1; i >= 0; i--) {   // backwards: be down by the time a peak arrives
    const need = Math.min(1, ceil / Math.max(1, Math.abs(samples[i]) * g));
    env[i] = i === n - 1 ? need : Math.min(need, env[i + 1] + down);
  }
  for (let i = 1; i < n; i++) env[i] = Math.min(env[i], env[i - 1] + up);   // then a slow release
  for (let i = 0; i < n; i++) samples[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * g * env[i])));
  return db;
}

// The gain (dB) that brings samples to `target`, at most MAX_GAIN_DB, and never past the
// sample-peak ceiling (the server has a limiter for that; here the gain simply stops).
export function levelGainDb(samples, rate, target = TARGET_LUFS) {
  const l = loudnessLufs(samples, rate);
  if (!Number.isFinite(l)) return 0;
  let peak = 1;
  for (let i = 0; i < samples.length; i++) { const a = Math.abs(samples[i]); if (a > peak) peak = a; }
  const room = CEILING_DB - 20 * Math.log10(peak / 32767);
  return Math.min(target - l, MAX_GAIN_DB, room);
}

// Applies a gain (dB) in place, with rounding and clipping to 16 bits.
export function applyGain(samples, db) {
  if (!db) return samples;
  const g = 10 ** (db / 20);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * g)));
  return samples;
}
