// voice-order.js — which voices the picker shows first, and which one a reader who never
// chose gets. Natural voices (Kokoro, Piper, an OpenAI-compatible server) come before the
// formant and diphone ones, then voices made in this browser: a listener who installed a
// neural voice should not have to dig for it under forty eSpeak variants, nor hear eSpeak
// by default. Pure functions: unit-tested in tests/web/voice-order.test.mjs.

const RANK = { kokoro: 0, piper: 1, openai: 2, flite: 3, espeak: 4, browser: 6 };
const rank = (model) => RANK[model] ?? 5;
export const NATURAL_RANK = RANK.openai;   // this rank and below are natural voices

/** Sorts options {model, label} in place: by kind of voice, then by label. */
export function sortOptions(options) {
  return options.sort((a, b) => rank(a.model) - rank(b.model) || a.label.localeCompare(b.label));
}

/** The voice for a reader who never chose one: the most natural installed voice of the
 *  browser's language (its exact region first, e.g. en-GB, then the base language), or null
 *  when only robotic voices speak it (the caller keeps its default).
 *  models: GET /v1/models; lang: navigator.language. */
export function naturalDefault(models, lang) {
  const want = String(lang || '').toLowerCase();
  const base = want.split(/[-_]/)[0];
  let best = null;
  let bestScore = Infinity;
  for (const m of models || []) {
    if (m.available === false || rank(m.slug) > NATURAL_RANK) continue;
    for (const v of m.voices || []) {
      const vl = String(v.lang || '').toLowerCase().replace('_', '-');
      const exact = vl === want;
      if (!exact && vl.split('-')[0] !== base) continue;
      const score = (exact ? 0 : 10) + rank(m.slug);
      if (score < bestScore) { best = { model: m.slug, voice: v.slug }; bestScore = score; }
    }
  }
  return best;
}
