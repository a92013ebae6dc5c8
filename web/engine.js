// engine.js — the playback state machine of the reading page.
//
// Pure: it knows nothing of the DOM, the <audio> element or the WebSocket. Everything it
// touches is injected:
//   socket  { send(msg), forget?(documentId) }            — see ws-client.js
//   audio   { listen({ended,time,error}), fetch(url) -> Promise<{durationMs}>,
//             play(url, {token}) -> Promise, pause(), resume() -> Promise, stop(),
//             release(url), setSpeed(x), setVolume(v), setMuted(b) } — see audio-output.js
//   timers  { now(), setTimeout(fn, ms), clearTimeout(id) }
//   synthesizer (optional) { synthesize({text, voice}) -> Promise<{url, durationMs, words,
//             body, type}>, upload({documentId, idx, model, voice, body, type, words,
//             skipReferences, signal}) -> Promise (rejects with `final: true` for a refusal),
//             release?(url) } — see browser-tts.js: the page's own TTS (model `browser`)
// The UI calls commands (play, pause, seek, setVoice, ...) and feeds it events (onMessage,
// onConnection); it renders the immutable snapshots given to subscribe(fn).
//
// States: stopped -> buffering -> playing <-> paused. Buffering ends (the adaptive start
// rule, see canStart and web/README.md) as soon as the current block is cached and the
// audio cached ahead, at the current speed, lasts longer than START_SAFETY x the predicted
// time to produce the rest of the MIN_BUFFER_TO_START blocks. The prediction is a running
// production rate per model/voice (ms of wall time per ms of audio, from queued -> cached
// arrivals and duration_ms); with no history it waits for all MIN_BUFFER_TO_START blocks
// (fewer near the end). An underrun re-enters Buffering under the same rule.
// Prefetch: while not stopped, when fewer than REFILL_THRESHOLD blocks from the cursor are
// cached/queued/processing, the next BATCH_SIZE pending blocks are requested; a block is
// marked queued before the server answers so it is never requested twice.
// Browser mode (model BROWSER_MODEL): the same requests go out with synthesis_mode
// "browser"; the server answers `cached` for what this user uploaded before and
// `synthesize_locally` for the rest. Those stay `queued` until the synthesizer takes them,
// one at a time, nearest the cursor first (`processing`), and become `cached` with a blob
// URL played from memory; each is then uploaded in the background (a failed upload never
// touches playback). Seeking drops local work outside the server's eviction window, as
// cursor_moved does for queued jobs. Memory stays bounded however long the server is
// unreachable: the page holds audio it made only for blocks within [cursor - KEEP_BEHIND,
// cursor + PRELOAD_AHEAD * 4]. Outside it an uploaded block plays from the server's copy;
// one whose upload has not succeeded is dropped (its upload aborted) and goes back to
// pending, so it is synthesized again if the reader comes back to it. A held block whose
// upload failed is uploaded again after UPLOAD_RETRY_MS, doubling up to UPLOAD_RETRY_MAX_MS.
// Pauses follow structure: the server gives each block a `pause_ms` (paragraph, heading,
// section end, list item, a sentence or clause cut inside a paragraph); when a block ends,
// the next one starts after pause_ms / speed (the cursor moves at once), on top of the
// short pads inside the audio itself.
// Every playback attempt carries a token; results for an older token (a load that finished
// after a seek, an `ended` from a replaced source) are ignored.

export const MIN_BUFFER_TO_START = 4;
export const BATCH_SIZE = 8;
export const REFILL_THRESHOLD = 8;
export const KEEP_BEHIND = 8;          // fetched audio kept behind the cursor
export const PRELOAD_AHEAD = 16;       // cached blocks ahead whose audio is fetched
export const REQUEST_SCAN_LIMIT = 64;  // never request further than this past the cursor
export const SPEED_MIN = 0.5;
export const SPEED_MAX = 3.0;
export const SPEED_STEP = 0.25;
export const RECONNECT_NOTICE_MS = 3000;
export const LOW_BUFFER_MS = 15000;
export const MAX_LOAD_FAILURES = 3;
export const SLEEP_MINUTES = [15, 30, 45, 60];  // the sleep timer's choices (and 'chapter')
export const START_SAFETY = 2;         // the predicted production time is doubled
export const RATE_WINDOW = 8;          // production samples in the running estimate
export const BROWSER_MODEL = 'browser'; // the model synthesized in the page (SPEC section 6)
export const EVICT_BEHIND = 8;         // browser mode drops local work outside the window
export const EVICT_AHEAD = 16;
export const UPLOAD_RETRY_MS = 30000;      // browser mode: a held block's failed upload is
export const UPLOAD_RETRY_MAX_MS = 300000; //   tried again after 30 s, doubling up to 5 min
export const QUERY_BEHIND = 16;        // query_states: the window asked about on open,
export const QUERY_AHEAD = 176;        //   [cursor - 16, cursor + 176), and
export const QUERY_MAX = 64;           //   indices per message (protocol.h WS_MAX_QUERY)         //   [cursor - 8, cursor + 16], as the server does

// The production rate book: `${model}/${voice}` -> recent samples {prodMs, audioMs}. One
// per page (passed to createEngine) so what one document taught holds for the next.
export function createRateBook() {
  const book = new Map();
  return {
    add(key, prodMs, audioMs) {
      let list = book.get(key);
      if (!list) book.set(key, (list = []));
      list.push({ prodMs: Math.max(0, prodMs), audioMs });
      if (list.length > RATE_WINDOW) list.shift();
    },
    // wall ms needed per ms of audio, or null when nothing was ever produced for the key
    ratio(key) {
      const list = book.get(key);
      if (!list || !list.length) return null;
      let p = 0, a = 0;
      for (const x of list) { p += x.prodMs; a += x.audioMs; }
      return a > 0 ? p / a : null;
    },
  };
}

// The pace book: how long each model/voice takes to say a character, learned from the exact
// duration_ms of the blocks it has made (ms = PAD_MS + chars x ms-per-char; the pads are the
// 160 ms of silence every stored block carries). Estimates for blocks not made yet use it,
// so the total of a 5-hour document is right to a few percent instead of the server's fixed
// 65 ms per character (+36 % for `man bash` in espeak-ng). With `storage` (localStorage)
// what was learnt survives a reload.
export const PAD_MS = 160;
export const PACE_MIN_CHARS = 200;     // learnt from at least this many characters
export function createPaceBook({ storage = null } = {}) {
  const KEY = 'recite.pace';
  let book = {};
  try { book = JSON.parse(storage?.getItem(KEY) || '{}') || {}; } catch { book = {}; }
  let saveTimer = null;
  const save = () => {
    if (!storage || saveTimer) return;
    saveTimer = setTimeout(() => { saveTimer = null; try { storage.setItem(KEY, JSON.stringify(book)); } catch { /* full */ } }, 2000);
    saveTimer?.unref?.();   // node (tests): never keeps the process alive
  };
  return {
    add(key, ms, chars) {
      if (!(ms > PAD_MS) || !(chars > 0)) return;
      const e = book[key] || (book[key] = { ms: 0, chars: 0 });
      e.ms += ms - PAD_MS;
      e.chars += chars;
      if (e.chars > 200000) { e.ms /= 2; e.chars /= 2; }   // recent samples weigh more
      save();
    },
    // ms per character, or null before enough was heard
    perChar(key) {
      const e = book[key];
      return e && e.chars >= PACE_MIN_CHARS ? e.ms / e.chars : null;
    },
  };
}

const BLOCK_STATES = ['pending', 'queued', 'processing', 'cached', 'error', 'skipped'];
const IN_FLIGHT = new Set(['queued', 'processing', 'cached']);
const PASSED_OVER = new Set(['skipped', 'error']);

const defaultTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

export function clampSpeed(x) {
  const v = Number(x);
  if (!Number.isFinite(v)) return 1;
  return Math.round(clamp(v, SPEED_MIN, SPEED_MAX) * 100) / 100;
}

export function createEngine({ socket, audio, timers = defaultTimers, synthesisMode = 'server',
  model: initialModel = 'espeak', voice: initialVoice = 'en-us', rates = createRateBook(),
  paces = createPaceBook(), synthesizer = null } = {}) {
  if (!socket || !audio) throw new Error('engine needs a socket and an audio output');
  const modeOf = (m) => (m === BROWSER_MODEL ? 'browser' : synthesisMode);

  // --- document and block state -----------------------------------------------------
  let doc = null;            // { id, title, blocks: [{idx, text, est_duration_ms}] }
  let n = 0;
  let states = [];           // block idx -> one of BLOCK_STATES
  let urls = [];             // block idx -> audio_url for the current voice
  let unacked = new Set();   // requested, no status yet
  let failures = new Map();  // block idx -> failed loads
  const durations = new Map();  // audio_url -> exact duration (content-addressed: never stale)
  const timings = new Map();    // audio_url -> word timings
  let fetched = new Map();      // audio_url -> block idx, audio we asked the output to hold
  let requestedAt = new Map();  // block idx -> when it was asked for (production samples)
  let produced = new Set();     // blocks the server answered queued/processing: not yet made
  let lastArrival = 0;          // when the last produced block arrived (inter-arrival samples)
  // browser mode: blocks the page must synthesize itself, the one in the synthesizer, and
  // a generation bumped by every load/unload/voice switch so late results are dropped
  let localWaiting = new Set();
  let localBusy = null;      // the block in the synthesizer, or null
  let localGen = 0;
  let localUrls = new Map();     // blob URL made here -> { idx, ctrl, timer, rounds } (held)
  let uploaded = new Map();      // block idx -> the server's audio_url of its upload
  let spoken = new Map();        // block idx -> the server's spoken_text (references blanked)

  // --- playback ------------------------------------------------------------------------
  let cursor = 0;
  let playState = 'stopped';
  let finished = false;
  let positionMs = 0;
  let playToken = 0;         // bumped by every start, seek, stop and voice switch
  let loaded = null;         // { token, idx } the block the audio output holds for resume
  let word = null;
  let model = initialModel;
  let voice = initialVoice;
  let speed = 1;
  let skipRefs = false;      // citation markers, footnote references, bare URLs not spoken
  let volume = 1;
  let muted = false;

  // --- connection / errors -------------------------------------------------------------
  let conn = 'idle';
  let downSince = null;
  let noticeTimer = null;
  let error = null;          // { kind: 'fatal'|'server'|'connection'|'autoplay', message }

  // --- sleep timer -----------------------------------------------------------------------
  let sleep = null;          // { mode: minutes | 'chapter', endsAt? }
  let sleepTimer = null;
  let chapters = [];         // block idxs where a chapter (heading) starts, ascending

  // --- snapshots -----------------------------------------------------------------------
  const listeners = new Set();
  let statesDirty = true;
  let frozenStates = Object.freeze([]);
  let durDirty = true;
  let prefix = [0];          // prefix[i] = ms of blocks before i
  // pastMs[i] = what block i (with its pause) counted for when the voice or the skip setting
  // last changed, for the blocks then behind the cursor. Their exact durations belonged to
  // the voice they were heard in and go with its URLs; re-estimating them in the new voice
  // made the elapsed time jump (issue 16). A seek back drops the entries from the cursor on.
  let pastMs = [];
  let snapshot = null;

  audio.listen?.({ ended: onAudioEnded, time: onAudioTime, error: onAudioError });

  // ===== helpers =======================================================================

  function setState(idx, s) {
    if (states[idx] === s) return;
    states[idx] = s;
    statesDirty = true;
    durDirty = true;  // skipped blocks count 0 ms
  }

  // A block's length in code points (cached: pace estimates run over every block).
  let charCounts = [];
  function chars(i) {
    let c = charCounts[i];
    if (c === undefined) c = charCounts[i] = [...(doc.blocks[i]?.text || '')].length;
    return c;
  }

  // Exact when the audio is known; else learnt from this voice's pace; else the server's.
  function blockMs(i, perChar = paces.perChar(`${model}/${voice}`)) {
    if (states[i] === 'skipped') return 0;
    const u = urls[i];
    if (u && durations.has(u)) return durations.get(u);
    if (perChar !== null && chars(i) > 0) return Math.round(PAD_MS + chars(i) * perChar);
    return Math.max(0, Number(doc.blocks[i]?.est_duration_ms) || 0);
  }

  // Time is listening time at 1x: each block plus the structural pause after it.
  function recomputeDurations() {
    prefix = new Array(n + 1);
    prefix[0] = 0;
    const perChar = paces.perChar(`${model}/${voice}`);
    for (let i = 0; i < n; i++) {
      if (i < pastMs.length) { prefix[i + 1] = prefix[i] + pastMs[i]; continue; }
      const pause = i + 1 < n && states[i] !== 'skipped' ? Math.max(0, Number(doc.blocks[i]?.pause_ms) || 0) : 0;
      prefix[i + 1] = prefix[i] + blockMs(i, perChar) + pause;
    }
    durDirty = false;
  }

  // Blocks from the cursor that can be played without waiting: {have, need, ready}.
  function bufferInfo() {
    let playable = 0;
    for (let i = cursor; i < n && playable < MIN_BUFFER_TO_START; i++) {
      if (!PASSED_OVER.has(states[i])) playable++;
    }
    const need = playable;
    let have = 0;
    let i = cursor;
    for (; i < n && have < need; i++) {
      const s = states[i];
      if (PASSED_OVER.has(s)) continue;
      if (s !== 'cached') break;
      have++;
    }
    return { have, need, ready: have >= need };
  }

  // ms of cached audio from the playing position onward (up to `limit`).
  function cachedAheadMs(limit) {
    let ms = 0;
    for (let i = cursor; i < n && ms < limit; i++) {
      const s = states[i];
      if (PASSED_OVER.has(s)) continue;
      if (s !== 'cached') break;
      ms += blockMs(i) - (i === cursor ? positionMs : 0);
    }
    return ms;
  }

  // The adaptive start rule (module header). The current block must be cached; then either
  // the whole minimum buffer is, or the audio cached ahead outlasts producing the rest of it.
  function canStart() {
    const info = bufferInfo();
    if (info.ready) return true;
    if (info.have === 0) return false;
    const ratio = rates.ratio(`${model}/${voice}`);
    if (ratio === null) return false;          // no history: the conservative MIN_BUFFER_TO_START
    let restMs = 0;
    for (let i = cursor, counted = 0; i < n && counted < info.need; i++) {
      if (PASSED_OVER.has(states[i])) continue;
      counted++;
      if (states[i] !== 'cached') restMs += blockMs(i);
    }
    return cachedAheadMs(Infinity) / speed >= START_SAFETY * ratio * restMs;
  }

  // A block the server had to produce arrived: one sample of the production rate. The time
  // counts from the request or from the previous arrival, whichever is later, so parallel
  // workers show up as a faster rate, and queue waits behind other readers as a slower one.
  function noteProduced(idx, audioMs) {
    const now = timers.now();
    const asked = requestedAt.get(idx);
    requestedAt.delete(idx);
    if (!produced.delete(idx) || asked === undefined || !(audioMs > 0)) return;
    rates.add(`${model}/${voice}`, now - Math.max(asked, lastArrival), audioMs);
    lastArrival = now;
  }

  function ensurePrefetch() {
    if (!doc || playState === 'stopped') return;
    let run = 0;
    let i = cursor;
    for (; i < n && run < REFILL_THRESHOLD; i++) {
      const s = states[i];
      if (s === 'pending') break;
      if (IN_FLIGHT.has(s)) run++;
    }
    if (run >= REFILL_THRESHOLD || i >= n) return;
    const batch = [];
    for (let j = i; j < n && j < cursor + REQUEST_SCAN_LIMIT && batch.length < BATCH_SIZE; j++) {
      if (states[j] === 'pending') batch.push(j);
    }
    if (!batch.length) return;
    const now = timers.now();
    for (const j of batch) { setState(j, 'queued'); unacked.add(j); requestedAt.set(j, now); }
    socket.send({
      type: 'synthesize', document_id: doc.id, block_indices: batch, cursor,
      model, voice, synthesis_mode: modeOf(model), ...(skipRefs ? { skip_references: true } : {}),
    });
  }

  // What the server already has around the cursor, without asking for any work (the
  // query_states addition to the protocol): after a reload the cells show it at once.
  const queried = new Set();
  function queryStates() {
    if (!doc || conn !== 'open') return;   // browser mode too: this user's uploads
    const want = [];
    for (let i = Math.max(0, cursor - QUERY_BEHIND); i < Math.min(n, cursor + QUERY_AHEAD); i++) {
      const key = `${model}/${voice}/${skipRefs}/${i}`;   // an answer is for one setting
      if (states[i] === 'pending' && !queried.has(key)) { queried.add(key); want.push(i); }
    }
    for (let k = 0; k < want.length; k += QUERY_MAX) {
      socket.send({ type: 'query_states', document_id: doc.id, block_indices: want.slice(k, k + QUERY_MAX),
        model, voice, ...(skipRefs ? { skip_references: true } : {}) });
    }
  }

  // Fetch audio of cached blocks near the cursor; release audio far from it.
  function manageAudio() {
    if (!doc) return;
    // browser mode: a block made here and uploaded is played from the server's copy once it
    // is far from the cursor, so the page does not hold every block's audio in memory
    // one whose upload has not succeeded goes back to pending (synthesized again if needed)
    for (const [u, held] of localUrls) {
      const idx = held.idx;
      if (idx >= cursor - KEEP_BEHIND && idx <= cursor + PRELOAD_AHEAD * 4) continue;
      const serverUrl = uploaded.get(idx);
      uploaded.delete(idx);
      if (urls[idx] === u && serverUrl) {
        if (durations.has(u)) durations.set(serverUrl, durations.get(u));
        if (timings.has(u)) timings.set(serverUrl, timings.get(u));
        urls[idx] = serverUrl;
      } else if (urls[idx] === u) {
        urls[idx] = null;
        setState(idx, 'pending');
      }
      durations.delete(u);
      timings.delete(u);
      forgetLocal(u);   // fetched audio of it is released just below (same window)
    }
    for (const [u, idx] of fetched) {
      if (idx < cursor - KEEP_BEHIND || idx > cursor + PRELOAD_AHEAD * 4) {
        fetched.delete(u);
        audio.release(u);
      }
    }
    for (let i = cursor; i < n && i <= cursor + PRELOAD_AHEAD; i++) {
      if (states[i] === 'cached' && urls[i] && !fetched.has(urls[i])) fetchBlock(i);
    }
  }

  function fetchBlock(idx) {
    const u = urls[idx];
    fetched.set(u, idx);
    audio.fetch(u).then((info) => {
      const ms = Number(info?.durationMs);
      if (ms > 0 && durations.get(u) !== ms) { durations.set(u, ms); durDirty = true; commit(); }
    }, (err) => {
      if (fetched.get(u) !== idx || urls[idx] !== u) return;  // stale: voice switch, seek, release
      if (loaded && loaded.idx === idx && loaded.token === playToken) return;  // play() reports it
      loadFailed(idx, err);
      commit();
    });
  }

  // A block's audio could not be fetched or played. Ask the server again (it answers with
  // the current state at once, or on reconnect), and give up after MAX_LOAD_FAILURES.
  function loadFailed(idx, err) {
    const u = urls[idx];
    if (u) { fetched.delete(u); audio.release(u); }
    // failures while the server is unreachable do not count: the block is asked for again
    const count = (failures.get(idx) || 0) + (conn === 'open' ? 1 : 0);
    failures.set(idx, count);
    urls[idx] = null;
    const current = idx === cursor && (playState === 'playing' || playState === 'buffering');
    if (count >= MAX_LOAD_FAILURES) {
      setState(idx, 'error');
      if (current) { playState = 'playing'; startBlock(); }
      return;
    }
    setState(idx, 'pending');
    if (current) enterBuffering();
    else ensurePrefetch();
  }

  function startBlock() {
    while (cursor < n && PASSED_OVER.has(states[cursor])) cursor++;
    if (cursor >= n) { finish(); return; }
    positionMs = 0;
    word = null;
    if (states[cursor] !== 'cached' || !urls[cursor]) { enterBuffering(); return; }
    playState = 'playing';
    const idx = cursor;
    const u = urls[idx];
    const token = ++playToken;
    loaded = { token, idx };
    if (!fetched.has(u)) fetchBlock(idx);
    manageAudio();
    ensurePrefetch();
    audio.play(u, { token }).then(() => {
      if (token !== playToken) return;
      failures.delete(idx);
      preloadNext();
    }, (err) => {
      if (token !== playToken) return;
      if (err && err.name === 'NotAllowedError') {
        playState = 'paused';
        error = { kind: 'autoplay', message: 'The browser blocked playback. Press Play to start.' };
      } else {
        loaded = null;
        loadFailed(idx, err);
      }
      commit();
    });
  }

  // Seamless seams: the next block's audio waits, decoded, in the output's spare element.
  function preloadNext() {
    if (!doc || !audio.preload || (playState !== 'playing' && playState !== 'paused')) return;
    // in a structural pause the cursor is already on the block about to start: that one
    let j = loaded ? cursor + 1 : cursor;
    while (j < n && PASSED_OVER.has(states[j])) j++;
    if (j < n && states[j] === 'cached' && urls[j]) audio.preload(urls[j]);
  }

  // ===== browser mode: the page's own synthesizer ========================================

  // The waiting block nearest the cursor, ahead first.
  function nextLocal() {
    let best = null;
    for (const i of localWaiting) {
      const d = i >= cursor ? i - cursor : (cursor - i) + n;
      if (best === null || d < best.d) best = { i, d };
    }
    return best ? best.i : null;
  }

  function pumpLocal() {
    if (localBusy !== null || !doc || !synthesizer) return;
    const idx = nextLocal();
    if (idx === null) return;
    localWaiting.delete(idx);
    setState(idx, 'processing');
    localBusy = idx;
    const gen = localGen;
    // the server's own text to speak (one skip rule, refs.c); its UTF-16 offsets are the
    // shown text's, so word timings need no mapping
    const text = spoken.get(idx) ?? doc.blocks[idx]?.text ?? '';
    const m = model, v = voice, docId = doc.id, skip = skipRefs;
    Promise.resolve().then(() => synthesizer.synthesize({ text, voice: v })).then((r) => {
      localBusy = null;
      if (gen !== localGen) { synthesizer.release?.(r?.url); pumpLocal(); commit(); return; }
      localDone(idx, r, { docId, model: m, voice: v, skip });
      pumpLocal();
      commit();
    }, (err) => {
      localBusy = null;
      if (gen === localGen) {
        const count = (failures.get(idx) || 0) + 1;
        failures.set(idx, count);
        if (count >= MAX_LOAD_FAILURES) {
          setState(idx, 'error');
          error = { kind: 'server', message: `This browser could not synthesize block ${idx + 1}: ${err?.message || err}` };
          if (idx === cursor && playState === 'buffering') { playState = 'playing'; startBlock(); }
        } else {
          setState(idx, 'queued');
          localWaiting.add(idx);
        }
      }
      pumpLocal();
      commit();
    });
  }

  function localDone(idx, r, { docId, model: m, voice: v, skip }) {
    if (!r || !r.url) { setState(idx, 'error'); return; }
    const u = r.url;
    urls[idx] = u;
    const ms = Number(r.durationMs);
    if (ms > 0) durations.set(u, ms);
    if (Array.isArray(r.words)) timings.set(u, r.words);
    durDirty = true;
    failures.delete(idx);
    noteProduced(idx, ms > 0 ? ms : blockMs(idx));
    setState(idx, 'cached');
    if (idx >= cursor && idx <= cursor + PRELOAD_AHEAD && !fetched.has(u)) fetchBlock(idx);
    for (const [old, h] of localUrls) if (h.idx === idx && old !== u) forgetLocal(old);   // made again
    const held = { idx, ctrl: null, timer: null, rounds: 0 };
    localUrls.set(u, held);
    if (r.body) {
      uploadLocal(u, held, { documentId: docId, idx, model: m, voice: v, body: r.body, type: r.type,
        words: r.words, skipReferences: skip });
    }
    if (playState === 'buffering' && canStart()) startBlock();
    else if (idx > cursor) preloadNext();
    ensurePrefetch();
  }

  // Shares a held block with the server in the background; playback never waits for it.
  // While the block is held a failed upload is tried again later, backing off; dropping
  // the block (forgetLocal) aborts it, so nothing keeps its audio alive.
  function uploadLocal(u, held, job) {
    held.timer = null;
    const ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    held.ctrl = ctrl;
    Promise.resolve().then(() => synthesizer.upload(ctrl ? { ...job, signal: ctrl.signal } : job)).then((res) => {
      held.ctrl = null;
      // the server's copy can stand in for the blob once the block is far from the cursor
      if (localUrls.get(u) === held && res?.audio_url) { uploaded.set(job.idx, res.audio_url); manageAudio(); }
    }, (err) => {
      held.ctrl = null;
      if (localUrls.get(u) !== held || err?.final) return;   // dropped, or refused for good
      const wait = Math.min(UPLOAD_RETRY_MAX_MS, UPLOAD_RETRY_MS * 2 ** held.rounds++);
      held.timer = timers.setTimeout(() => { if (localUrls.get(u) === held) uploadLocal(u, held, job); }, wait);
    });
  }

  // Lets go of a blob made here: its upload (or the wait before the next try) and its URL.
  function forgetLocal(u) {
    const held = localUrls.get(u);
    if (!held) return;
    localUrls.delete(u);
    held.ctrl?.abort();
    if (held.timer !== null) timers.clearTimeout(held.timer);
    synthesizer?.release?.(u);
  }

  // Local work outside [cursor - EVICT_BEHIND, cursor + EVICT_AHEAD] goes back to pending.
  function evictLocal() {
    for (const i of localWaiting) {
      if (i < cursor - EVICT_BEHIND || i > cursor + EVICT_AHEAD) {
        localWaiting.delete(i);
        produced.delete(i);
        setState(i, 'pending');
      }
    }
  }

  function resetLocal() {
    localGen++;
    localWaiting = new Set();
    for (const u of [...localUrls.keys()]) forgetLocal(u);
    uploaded = new Map();
    spoken = new Map();
  }

  // Before a voice or skip-setting change: the time behind the cursor stays as counted
  // (pastMs), so the elapsed readout does not move; the rest is counted in the new voice.
  // (The current block restarts in the new voice, so a switch mid-block shows its start.)
  function keepPast() {
    if (!doc) return;
    if (durDirty) recomputeDurations();   // still the old voice's model/voice
    pastMs = Array.from({ length: Math.min(cursor, n) }, (_, i) => prefix[i + 1] - prefix[i]);
  }

  // Clears block states and synthesizes again from the cursor (voice switch, skip setting),
  // playing on if it was playing.
  function restartSynthesis() {
    if (!doc) { commit(); return; }
    const wasActive = playState === 'playing' || playState === 'buffering';
    playToken++;
    loaded = null;
    positionMs = 0;
    word = null;
    audio.stop();
    releaseAllAudio();
    resetBlocks();
    statesDirty = durDirty = true;
    if (wasActive) enterBuffering();
    else ensurePrefetch();  // paused keeps prefetching; stopped does nothing
    queryStates();
    commit();
  }

  // Every block back to pending, nothing requested or made: a new document or voice.
  function resetBlocks() {
    states = new Array(n).fill('pending');
    urls = new Array(n).fill(null);
    unacked = new Set();
    requestedAt = new Map();
    produced = new Set();
    failures = new Map();
    resetLocal();
  }

  function enterBuffering() {
    audio.pause();
    loaded = null;
    playState = 'buffering';
    ensurePrefetch();
    if (canStart()) startBlock();
  }

  function finish() {
    playToken++;
    audio.stop();
    loaded = null;
    playState = 'stopped';
    finished = true;
    cursor = Math.max(0, n - 1);
    positionMs = 0;
    word = null;
  }

  function stopPlayback() {
    playToken++;
    audio.stop();
    loaded = null;
    positionMs = 0;
    word = null;
    playState = 'stopped';
  }

  function findWord(list, ms) {
    if (!list || !list.length) return null;
    let lo = 0, hi = list.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].start_ms <= ms) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (found < 0) return null;
    const w = list[found];
    return { offset: w.offset, length: w.length };
  }

  function releaseAllAudio() {
    for (const u of fetched.keys()) audio.release(u);
    fetched = new Map();
  }

  function docMatches(id) { return doc && id !== undefined && String(id) === String(doc.id); }

  // ===== snapshots =====================================================================

  // The "Reconnecting…" indicator: only once an outage has lasted, or when the buffer runs
  // low during one. The very first connection is never called a reconnect.
  function showReconnecting() {
    if (conn !== 'connecting' && conn !== 'reconnecting') return false;
    if (downSince !== null && timers.now() - downSince >= RECONNECT_NOTICE_MS) return true;
    if (conn === 'connecting') return false;
    if (playState === 'buffering') return true;
    if (playState === 'playing') return cachedAheadMs(LOW_BUFFER_MS) < LOW_BUFFER_MS;
    return false;
  }

  function build() {
    if (statesDirty) { frozenStates = Object.freeze(states.slice()); statesDirty = false; }
    if (doc && durDirty) recomputeDurations();
    const total = doc ? prefix[n] : 0;
    const before = doc ? prefix[Math.min(cursor, n)] : 0;
    const info = doc ? bufferInfo() : { have: 0, need: 0, ready: false };
    return Object.freeze({
      docId: doc ? doc.id : null,
      title: doc ? doc.title : '',
      blockCount: n,
      cursor,
      playState,
      finished,
      blockStates: frozenStates,
      positionMs,
      elapsedMs: Math.min(total, before + positionMs),
      totalMs: total,
      word: word ? Object.freeze({ idx: cursor, ...word }) : null,
      buffer: Object.freeze({ have: info.have, need: info.need }),
      speed, volume, muted, model, voice, skipReferences: skipRefs, synthesisMode: modeOf(model),
      connection: Object.freeze({
        status: conn,
        reconnecting: showReconnecting(),
        failed: conn === 'failed',
      }),
      error: error ? Object.freeze({ ...error }) : null,
      sleep: sleep ? Object.freeze({ ...sleep }) : null,
      hasChapters: chapters.length > 0,
    });
  }

  function commit() {
    snapshot = build();
    for (const fn of listeners) {
      try { fn(snapshot); } catch (err) { queueMicrotask(() => { throw err; }); }
    }
  }

  // ===== audio events ==================================================================

  // The structural pause after block i at the current speed (0 for documents without one).
  function pauseAfterMs(i) {
    return Math.max(0, Number(doc?.blocks[i]?.pause_ms) || 0) / speed;
  }

  function onAudioEnded(token) {
    if (token !== playToken || playState !== 'playing') return;
    loaded = null;
    const gap = pauseAfterMs(cursor);
    cursor++;
    if (sleep && sleep.mode === 'chapter' && chapters.includes(cursor)) {
      // the chapter is over: stop at the next one's heading, ready to go on from there
      clearSleep();
      playToken++;
      audio.pause();
      playState = 'paused';
      commit();
      return;
    }
    if (gap > 0 && cursor < n) {
      // a seek, pause, stop or voice switch in the gap bumps the token or the state
      const t = playToken;
      timers.setTimeout(() => {
        if (t !== playToken || playState !== 'playing' || loaded) return;
        startBlock();
        commit();
      }, gap);
    } else {
      startBlock();
    }
    commit();
  }

  function clearSleep() {
    if (sleepTimer !== null) timers.clearTimeout(sleepTimer);
    sleepTimer = null;
    sleep = null;
  }

  function onAudioTime(token, ms) {
    if (token !== playToken || !loaded || !Number.isFinite(ms)) return;
    positionMs = Math.max(0, ms);
    const u = urls[cursor];
    word = u ? findWord(timings.get(u), positionMs) : null;
    commit();
  }

  function onAudioError(token, err) {
    if (token !== playToken || !loaded) return;
    const idx = loaded.idx;
    loaded = null;
    playToken++;
    loadFailed(idx, err);
    commit();
  }

  // ===== server messages ===============================================================

  function onStatus(msg) {
    if (!docMatches(msg.document_id)) return;
    if (msg.model !== model || msg.voice !== voice) return;   // an old voice's late answer
    // a late answer for the skip setting just left (a job that finishes after the toggle):
    // blocks with references have other audio per setting. Servers without the field: kept.
    if (typeof msg.skip_references === 'boolean' && msg.skip_references !== skipRefs) return;
    const idx = msg.block_idx;
    if (!Number.isInteger(idx) || idx < 0 || idx >= n) return;
    unacked.delete(idx);
    switch (msg.status) {
      case 'queued':
      case 'processing':
        if (states[idx] !== 'cached') { setState(idx, msg.status); produced.add(idx); }
        break;
      case 'cached': {
        if (!msg.audio_url) { setState(idx, 'error'); break; }
        const u = msg.audio_url;
        if (urls[idx] !== u) { urls[idx] = u; durDirty = true; }
        const ms = Number(msg.duration_ms);
        if (ms > 0) {
          if (!durations.has(u)) paces.add(`${model}/${voice}`, ms, chars(idx));
          durations.set(u, ms);
          durDirty = true;
        }
        if (Array.isArray(msg.word_timings)) timings.set(u, msg.word_timings);
        if (states[idx] !== 'cached') noteProduced(idx, ms > 0 ? ms : blockMs(idx));
        setState(idx, 'cached');
        if (idx >= cursor && idx <= cursor + PRELOAD_AHEAD && !fetched.has(u)) fetchBlock(idx);
        break;
      }
      case 'synthesize_locally':
        // a repeat (a reconnect re-sends pending requests) never restarts work under way
        if (states[idx] === 'cached' || localBusy === idx) break;
        if (!synthesizer) {
          setState(idx, 'error');
          error = { kind: 'server', message: 'This page cannot synthesize speech itself.' };
          break;
        }
        if (typeof msg.spoken_text === 'string') spoken.set(idx, msg.spoken_text);
        setState(idx, 'queued');
        produced.add(idx);
        localWaiting.add(idx);
        pumpLocal();
        break;
      case 'skipped':
        setState(idx, 'skipped');
        break;
      case 'error':
        setState(idx, 'error');
        if (msg.recoverable === false) {
          stopPlayback();
          error = { kind: 'fatal', message: msg.error || 'The server refused to synthesize more audio.' };
        }
        break;
      default:
        return;
    }
    if (playState === 'buffering' && canStart()) startBlock();
    else if (msg.status === 'cached' && idx > cursor) preloadNext();
    ensurePrefetch();
  }

  function onEvicted(msg) {
    if (!docMatches(msg.document_id)) return;
    if (msg.model !== model || msg.voice !== voice) return;
    if (typeof msg.skip_references === 'boolean' && msg.skip_references !== skipRefs) return;
    for (const idx of msg.block_indices || []) {
      if (!Number.isInteger(idx) || idx < 0 || idx >= n) continue;
      unacked.delete(idx);
      produced.delete(idx);
      if (states[idx] === 'queued' || states[idx] === 'processing') setState(idx, 'pending');
    }
    ensurePrefetch();
  }

  function onServerError(msg) {
    if (msg.document_id !== undefined && doc && !docMatches(msg.document_id)) return;
    for (const idx of unacked) if (states[idx] === 'queued') setState(idx, 'pending');
    unacked = new Set();
    if (playState === 'buffering') stopPlayback();
    error = { kind: 'server', message: msg.error || 'The server reported an error.' };
  }

  // ===== public commands ===============================================================

  const engine = {
    subscribe(fn) {
      listeners.add(fn);
      fn(snapshot || (snapshot = build()));
      return () => listeners.delete(fn);
    },
    getSnapshot() { return snapshot || (snapshot = build()); },

    load(document, { cursor: start = 0 } = {}) {
      if (doc) engine.unload();
      doc = { id: document.id, title: document.title || '', blocks: document.blocks || [] };
      n = doc.blocks.length;
      charCounts = [];
      pastMs = [];
      resetBlocks();
      cursor = n ? clamp(Math.trunc(Number(start)) || 0, 0, n - 1) : 0;
      playState = 'stopped';
      finished = false;
      positionMs = 0;
      word = null;
      loaded = null;
      if (error && error.kind !== 'connection') error = null;
      statesDirty = durDirty = true;
      queried.clear();
      queryStates();
      commit();
    },

    unload() {
      if (!doc) return;
      clearSleep();
      chapters = [];
      stopPlayback();
      releaseAllAudio();
      socket.forget?.(doc.id);
      resetLocal();
      doc = null;
      n = 0;
      states = [];
      urls = [];
      statesDirty = durDirty = true;
      commit();
    },

    play() {
      if (!doc || n === 0) return;
      if (error && error.kind !== 'connection') error = null;
      if (playState === 'playing' || playState === 'buffering') { commit(); return; }
      if (finished) {
        finished = false;
        engine.seek(0);
      }
      if (playState === 'paused' && loaded && loaded.idx === cursor && loaded.token === playToken) {
        playState = 'playing';
        const token = playToken;
        audio.resume().catch((err) => {
          if (token !== playToken) return;
          if (err && err.name === 'NotAllowedError') {
            playState = 'paused';
            error = { kind: 'autoplay', message: 'The browser blocked playback. Press Play to start.' };
          } else {
            const idx = loaded ? loaded.idx : cursor;
            loaded = null;
            loadFailed(idx, err);
          }
          commit();
        });
        commit();
        return;
      }
      enterBuffering();
      commit();
    },

    pause() {
      if (playState === 'playing') {
        audio.pause();
        playState = 'paused';
      } else if (playState === 'buffering') {
        playState = 'stopped';
        audio.pause();
      }
      commit();
    },

    cancel() {
      if (playState === 'buffering') { playState = 'stopped'; audio.pause(); }
      commit();
    },

    toggle() {
      if (playState === 'playing' || playState === 'buffering') engine.pause();
      else engine.play();
    },

    stop() { stopPlayback(); commit(); },

    seek(target) {
      if (!doc || n === 0) return;
      const idx = clamp(Math.trunc(Number(target)) || 0, 0, n - 1);
      playToken++;
      loaded = null;
      positionMs = 0;
      word = null;
      finished = false;
      cursor = idx;
      if (pastMs.length > idx) { pastMs.length = idx; durDirty = true; }   // from here on: this voice
      socket.send({ type: 'cursor_moved', document_id: doc.id, cursor: idx });
      evictLocal();
      if (playState === 'playing') {
        if (states[idx] === 'cached' || PASSED_OVER.has(states[idx])) startBlock();
        else enterBuffering();
      } else if (playState === 'buffering') {
        enterBuffering();
      } else {
        audio.pause();
        ensurePrefetch();
      }
      queryStates();
      manageAudio();
      commit();
    },

    playFrom(idx) {
      engine.seek(idx);
      if (playState !== 'playing' && playState !== 'buffering') engine.play();
    },

    next() { if (doc && cursor < n - 1) engine.seek(cursor + 1); },
    prev() { if (doc && cursor > 0) engine.seek(cursor - 1); },

    setVoice(newModel, newVoice) {
      if (newModel === model && newVoice === voice) return;
      keepPast();
      model = newModel;
      voice = newVoice;
      restartSynthesis();
    },

    // Whether citation markers, footnote references and bare URLs are spoken (server mode,
    // and browser mode through the server's spoken_text): other audio, so like a voice switch the blocks are asked for again from the cursor.
    setSkipReferences(on) {
      if (!!on === skipRefs) return;
      keepPast();
      skipRefs = !!on;
      restartSynthesis();
    },

    setSpeed(x) {
      speed = clampSpeed(x);
      audio.setSpeed(speed);
      commit();
    },
    faster() { engine.setSpeed(speed + SPEED_STEP); },
    slower() { engine.setSpeed(speed - SPEED_STEP); },

    setVolume(v) {
      volume = clamp(Number(v) || 0, 0, 1);
      audio.setVolume(volume);
      if (volume > 0 && muted) { muted = false; audio.setMuted(false); }
      commit();
    },
    setMuted(m) { muted = !!m; audio.setMuted(muted); commit(); },
    toggleMute() { engine.setMuted(!muted); },

    // The audio output was used for something else (a voice preview): a later Play
    // restarts the current block instead of resuming.
    releaseOutput() {
      if (playState === 'playing') { audio.pause(); playState = 'paused'; }
      playToken++;
      loaded = null;
      commit();
    },

    dismissError() { error = null; commit(); },

    // Sleep timer: `mode` minutes (pauses when they have passed), 'chapter' (pauses where the
    // next chapter starts) or null (off).
    setSleep(mode) {
      clearSleep();
      if (mode === 'chapter') sleep = { mode };
      else if (Number(mode) > 0) {
        const ms = Number(mode) * 60000;
        sleep = { mode: Number(mode), endsAt: timers.now() + ms };
        sleepTimer = timers.setTimeout(() => {
          sleepTimer = null;
          sleep = null;
          if (playState === 'playing' || playState === 'buffering') engine.pause();
          else commit();
        }, ms);
      }
      commit();
    },
    // Block idxs where chapters start (the document's headings), for 'end of chapter'.
    setChapters(list) {
      chapters = [...new Set((list || []).filter((i) => Number.isInteger(i) && i > 0))].sort((a, b) => a - b);
      commit();
    },

    onMessage(msg) {
      if (!msg || typeof msg !== 'object') return;
      if (msg.type === 'status') onStatus(msg);
      else if (msg.type === 'evicted') onEvicted(msg);
      else if (msg.type === 'error') onServerError(msg);
      else return;
      commit();
    },
    onStatus(msg) { onStatus(msg); commit(); },
    onEvicted(msg) { onEvicted(msg); commit(); },

    // status: 'connecting' | 'open' | 'reconnecting' | 'failed' | 'closed'
    onConnection(status) {
      conn = status;
      if (noticeTimer !== null) { timers.clearTimeout(noticeTimer); noticeTimer = null; }
      if (status === 'open') {
        downSince = null;
        if (error && error.kind === 'connection') error = null;
        ensurePrefetch();
        queried.clear();   // a reconnect: what finished meanwhile is news
        queryStates();
      } else if (status === 'connecting' || status === 'reconnecting') {
        if (downSince === null) downSince = timers.now();
        const wait = RECONNECT_NOTICE_MS - (timers.now() - downSince);
        if (wait > 0) noticeTimer = timers.setTimeout(() => { noticeTimer = null; commit(); }, wait);
      } else if (status === 'failed') {
        error = { kind: 'connection', message: 'Lost the connection to the server.' };
      }
      commit();
    },
  };
  return engine;
}

export { BLOCK_STATES };
