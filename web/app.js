// app.js — wiring: one audio output, one WebSocket client and one engine for the page,
// the theme toggle, and hash routing (#/, #/new, #/doc/<id>) so the server only serves
// "/" and static files.
import { createEngine, createPaceBook, clampSpeed, BROWSER_MODEL } from './engine.js';
import { createWsClient } from './ws-client.js';
import { createAudioOutput } from './audio-output.js';
import { createBrowserSynthesizer } from './browser-tts.js';
import { authHeaders, listModels, wsUrl, getMe, hasCredential, setCredential } from './api.js';
import { store, svg, ICONS } from './views/dom.js';
import { savedVoice } from './views/voice-picker.js';
import { renderLibrary } from './views/library.js';
import { renderNewDocument } from './views/new-document.js';
import { renderReader } from './views/reader.js';
import { renderSignIn } from './views/sign-in.js';
import { renderAccount } from './views/account.js';

const audioEl = document.querySelector('audio');
const audio = createAudioOutput({ element: audioEl, headers: authHeaders });
const ws = createWsClient({ url: wsUrl() });
// model `browser`: synthesized in this page by a Web Worker, uploaded for next time
// (a voice slug the WebAssembly build does not know falls back to its language: en-gb -> en)
const browserLangs = new Map();
let langsLoading = null;
function loadLangs() {   // again after a failure (e.g. before signing in with --auth)
  langsLoading ??= listModels().then((list) => {
    for (const v of list.find((m) => m.slug === BROWSER_MODEL)?.voices || []) browserLangs.set(v.slug, v.lang);
  }, () => { langsLoading = null; });
}
loadLangs();
const synthesizer = createBrowserSynthesizer({
  langOf: (voice) => { if (!browserLangs.size) loadLangs(); return browserLangs.get(voice) || ''; },
});
let storage = null;
try { storage = window.localStorage; } catch { /* private mode: learn per page only */ }
const engine = createEngine({ socket: ws, audio, synthesizer, paces: createPaceBook({ storage }), ...savedVoice() });
{
  let lastModel = null;
  engine.subscribe((snap) => {
    if (snap.model === BROWSER_MODEL && lastModel !== BROWSER_MODEL) synthesizer.warm();
    lastModel = snap.model;
  });
}
ws.on('message', (m) => engine.onMessage(m));
ws.on('state', (s) => engine.onConnection(s));
window.addEventListener('online', () => ws.retry());

// --- player settings remembered across pages and visits ------------------------------
engine.setSpeed(clampSpeed(store('recite.speed') || 1));
const vol = Number(store('recite.volume'));
if (store('recite.volume') !== null && Number.isFinite(vol)) engine.setVolume(vol);
engine.setMuted(store('recite.muted') === '1');
{
  let last = {};
  engine.subscribe((s) => {
    if (s.speed !== last.speed) store('recite.speed', String(s.speed));
    if (s.volume !== last.volume) store('recite.volume', String(s.volume));
    if (s.muted !== last.muted) store('recite.muted', s.muted ? '1' : '0');
    last = s;
  });
}

// --- theme -----------------------------------------------------------------------------
const dark = window.matchMedia('(prefers-color-scheme: dark)');
const themeButton = document.getElementById('theme-toggle');
function applyTheme() {
  const chosen = store('recite.theme');
  const theme = chosen === 'light' || chosen === 'dark' ? chosen : dark.matches ? 'dark' : 'light';
  document.documentElement.dataset.theme = theme;
  const next = theme === 'dark' ? 'light' : 'dark';
  themeButton.setAttribute('aria-label', `Switch to ${next} theme`);
  themeButton.title = `Switch to ${next} theme`;
  themeButton.replaceChildren(svg(theme === 'dark' ? ICONS.sun : ICONS.moon, { size: 20 }));
}
themeButton.addEventListener('click', () => {
  store('recite.theme', document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');
  applyTheme();
});
dark.addEventListener('change', applyTheme);
applyTheme();

// --- routing -----------------------------------------------------------------------------
const view = document.getElementById('view');
let cleanup = null;

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  if (cleanup) {
    try { cleanup(); } catch (err) { console.error(err); }
    cleanup = null;
  }
  const hash = location.hash || '#/';
  const doc = hash.match(/^#\/doc\/([^/?#]+)/);
  document.querySelectorAll('[data-nav]').forEach((a) => {
    a.toggleAttribute('aria-current', a.getAttribute('href') === hash);
  });
  window.scrollTo(0, 0);
  if (account) account.refresh();
  if (doc) cleanup = renderReader(view, { id: decodeURIComponent(doc[1]), engine, audio, ws, synthesizer });
  else if (hash.startsWith('#/new')) cleanup = renderNewDocument(view, { navigate });
  else cleanup = renderLibrary(view, { navigate });
}

// --- accounts (only when the server runs with --auth) ----------------------------------
// GET /v1/me answers 401 when this page holds no working credential: then the sign-in
// screen is all there is. A server without accounts answers {"auth": false}: no sign-in,
// no account box, exactly as before.
const accountSlot = document.getElementById('account');
let account = null;

async function boot() {
  let me = null;
  const sent = authHeaders().Authorization || '';
  try {
    me = await getMe();
  } catch (err) {
    if (err.status === 401) {
      // A credential stored while the answer was on its way (another tab signed in) is not
      // the one refused: try again with it rather than throwing it away.
      if ((authHeaders().Authorization || '') !== sent) { boot(); return; }
      const had = hasCredential();
      setCredential(null);
      document.body.classList.add('signed-out');
      renderSignIn(view, { reason: had ? 'That sign-in is no longer valid: sign in again.' : '' });
      return;
    }
    // offline, or a server without /v1/me: the page works as it always did
  }
  if (me && me.auth) {
    account = renderAccount(accountSlot, me);
    // the quota moves while blocks are synthesized: keep the count near the truth
    setInterval(() => account.refresh(), 30_000);
    engine.subscribe((s) => { if (s.error && s.error.kind === 'fatal') account.refresh(); });
  }
  window.addEventListener('hashchange', route);
  route();
}
boot();

// For debugging and for the measurement script.
window.recite = { engine, ws, audio, synthesizer };
