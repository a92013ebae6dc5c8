// voice-picker.js — model/voice <select> from GET /v1/models, grouped by language
// (<optgroup>), natural voices first (voice-order.js); a reader who never chose gets the most
// natural installed voice of the browser's language, else espeak / en-us; the choice is
// remembered in localStorage; plus a
// preview button that stays hidden when the server has no preview for the voice (404).
// Voices of model `browser` are synthesized in this page ("— In this browser"); when the
// server cannot synthesize the saved model, the same voice in this browser is chosen.
import { h, svg, ICONS, store } from './dom.js';
import * as api from '../api.js';
import { BROWSER_MODEL } from '../engine.js';
import { sortOptions, naturalDefault } from '../voice-order.js';

export const DEFAULT_VOICE = Object.freeze({ model: 'espeak', voice: 'en-us' });
const KEY = 'recite.voice';
const SEP = '\u241f';

function storedVoice() {
  try {
    const v = JSON.parse(store(KEY) || 'null');
    if (v && typeof v.model === 'string' && typeof v.voice === 'string') return v;
  } catch { /* ignore */ }
  return null;
}

export function savedVoice() {
  return storedVoice() || { ...DEFAULT_VOICE };
}

let modelsPromise = null;
function models() {
  if (!modelsPromise) {
    modelsPromise = api.listModels().catch((err) => { modelsPromise = null; throw err; });
  }
  return modelsPromise;
}

// Group label: the base language ("English" for en-us, en-gb-scotland, ...); a code the
// browser cannot name falls back to the voice's own name without its parenthesis.
function languageGroup(lang, voiceName) {
  const base = String(lang || '').split(/[-_]/)[0].toLowerCase();
  if (base) {
    try {
      const name = new Intl.DisplayNames(['en'], { type: 'language' }).of(base);
      if (name && name.toLowerCase() !== base) return name;
    } catch { /* not a language code */ }
  }
  const plain = String(voiceName || '').replace(/\s*\(.*\)\s*$/, '').trim();
  return plain || base || 'Other';
}

export function createVoicePicker({ onChange, onPreview }) {
  let current = savedVoice();
  const select = h('select', { class: 'voice-select', 'aria-label': 'Voice', title: 'Voice' });
  const preview = h('button', {
    class: 'icon-button preview', type: 'button', hidden: true, 'aria-label': 'Preview voice', title: 'Preview this voice',
    onclick: () => onPreview?.(api.previewUrl(current.model, current.voice)),
  }, svg(ICONS.speaker, { size: 18 }));
  const el = h('div', { class: 'voice-picker' }, select, preview);

  const fallback = () => {
    select.replaceChildren(h('option', { value: `${current.model}${SEP}${current.voice}` }, `${current.voice} (${current.model})`));
  };
  fallback();

  // the whole label on hover: a narrow select cuts "— In this browser" off
  const showTitle = () => { select.title = select.selectedOptions[0]?.textContent || 'Voice'; };
  select.addEventListener('change', () => {
    showTitle();
    const [model, voice] = select.value.split(SEP);
    current = { model, voice };
    store(KEY, JSON.stringify(current));
    probePreview();
    onChange(model, voice);
    select.blur();  // give the keyboard shortcuts back
  });

  let probeSeq = 0;
  async function probePreview() {
    const seq = ++probeSeq;
    preview.hidden = true;
    try {
      const res = await fetch(api.previewUrl(current.model, current.voice), { method: 'GET', headers: api.authHeaders() });
      if (seq === probeSeq) preview.hidden = !res.ok;
      res.body?.cancel?.();
    } catch { /* leave hidden */ }
  }

  models().then((list) => {
    if (!Array.isArray(list) || !list.length) return;
    const multi = list.length > 1;
    const groups = new Map();
    const known = new Set();
    // A model this server cannot synthesize now (--workers 0 without Redis) is left out;
    // its readers fall back to the same voice synthesized in this browser.
    const unavailable = list.some((m) => m.slug === current.model && m.available === false);
    for (const m of list) {
      if (m.available === false) continue;
      for (const v of m.voices || []) {
        const g = languageGroup(v.lang, v.name);
        if (!groups.has(g)) groups.set(g, []);
        const label = v.name && v.name !== v.slug ? `${v.name}` : v.slug;
        groups.get(g).push({ model: m.slug, value: `${m.slug}${SEP}${v.slug}`, label: multi ? `${label} — ${m.name || m.slug}` : label });
        known.add(`${m.slug}${SEP}${v.slug}`);
      }
    }
    const names = [...groups.keys()].sort((a, b) => a.localeCompare(b));
    select.replaceChildren(...names.map((g) => h('optgroup', { label: g },
      ...sortOptions(groups.get(g)).map((o) => h('option', { value: o.value }, o.label)))));
    let want = `${current.model}${SEP}${current.voice}`;
    const natural = storedVoice() ? null : naturalDefault(list, navigator.language);
    if (natural) {
      want = `${natural.model}${SEP}${natural.voice}`;
      current = natural;
      onChange(natural.model, natural.voice);
    } else if (!known.has(want)) {
      const def = `${DEFAULT_VOICE.model}${SEP}${DEFAULT_VOICE.voice}`;
      const inBrowser = (voice) => `${BROWSER_MODEL}${SEP}${voice}`;
      const order = unavailable ? [inBrowser(current.voice), def, inBrowser(DEFAULT_VOICE.voice)]
        : [def, inBrowser(DEFAULT_VOICE.voice)];
      want = order.find((k) => known.has(k)) ?? select.options[0]?.value;
      if (want) {
        const [model, voice] = want.split(SEP);
        current = { model, voice };
        onChange(model, voice);
      }
    }
    select.value = want;
    showTitle();
    probePreview();
  }, () => { /* keep the fallback option */ });

  return { el, get value() { return { ...current }; } };
}
