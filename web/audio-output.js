// audio-output.js — the page's <audio> element (and its off-DOM twin), driven by the engine.
//
// fetch(url) downloads a block's Ogg Opus once (retrying network failures), keeps it as a
// blob URL and reports X-Duration-Ms; play(url, {token}) puts that blob in the element and
// resolves once sound starts (rejects after `loadTimeoutMs`, or with an AbortError-like
// `superseded` error when a newer play() replaced it). Events carry the token of the source
// actually in the element, so an `ended` from a replaced block can never advance the cursor.
// Speed keeps pitch (preservesPitch). release(url) revokes the blob URL (deferred while that
// source is still in an element).
//
// Seamless seams: preload(url) loads the next block into a second, off-DOM element; a later
// play(url) of that block swaps the two — the preloaded one starts at once and takes the
// first one's place in the DOM — so there is exactly one <audio> in the page and it is
// always the one playing (automation reads it). Measured against Web Audio scheduling in
// bench/listen.mjs (docs/BENCHMARKS.md): Web Audio joins blocks sample-exactly, but its
// playbackRate changes pitch, and speed without a pitch change is the contract (SPEC §9).
// The pads between blocks are in the audio itself (AUDIO_PAD_*), so they scale with speed.
// Starting an element takes a few ms, more with the time-stretcher at speed (bench: ~5 ms
// at 1x, ~20-35 ms at 3x): when the next block is ready, `ended` is reported that much before
// the end, inside the block's trailing silence (AUDIO_PAD_END_MS / speed), so the pause
// between blocks stays the pads' length at every speed.

export class AudioLoadError extends Error {
  constructor(message, { status = 0, retryable = false } = {}) {
    super(message);
    this.name = 'AudioLoadError';
    this.status = status;
    this.retryable = retryable;
  }
}

function superseded() {
  const e = new Error('superseded by a newer playback request');
  e.name = 'AbortError';
  return e;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// How early (wall ms) to hand over to a preloaded block: the measured start latency, and
// never more than the trailing pad lasts at this speed (AUDIO_PAD_END_MS = 120 ms).
export function handoverLeadMs(rate) {
  return Math.max(0, Math.min(5 + 10 * (rate - 1), 0.8 * (120 / rate)));
}

export function createAudioOutput({
  element,
  createElement = () => element.ownerDocument.createElement('audio'),
  fetchImpl = (...a) => fetch(...a),
  loadTimeoutMs = 8000,
  retries = 2,
  headers = () => ({}),
} = {}) {
  const entries = new Map();   // url -> { promise, blobUrl, durationMs, released }
  let listener = {};
  let wanted = 0;              // token of the latest play() request
  let srcToken = null;         // token of the source now in the active element
  let srcUrl = null;
  let active = element;        // the element in the DOM, the one that plays
  let spare = null;            // off-DOM, created on the first preload()
  let spareUrl = null;         // the block loaded (or loading) in the spare
  let spareWanted = null;      // the latest preload() request
  let rate = 1;
  let volume = 1;
  let muted = false;
  let raf = null;
  let early = null;            // timer of the early hand-over
  let endedToken = null;       // the token `ended` was reported for (never twice)
  let starting = false;        // inside play(): element errors are reported by the promise

  function applyRate(el) {
    el.preservesPitch = true;
    if ('webkitPreservesPitch' in el) el.webkitPreservesPitch = true;
    el.defaultPlaybackRate = rate;
    el.playbackRate = rate;
  }
  applyRate(element);

  function tick() {
    if (srcToken !== null) listener.time?.(srcToken, active.currentTime * 1000);
  }
  function loop() {
    tick();
    raf = active.paused ? null : requestAnimationFrame(loop);
  }
  function reportEnded(token) {
    if (token === null || endedToken === token) return;
    endedToken = token;
    listener.ended?.(token);
  }

  // Arms the early hand-over when the next block waits decoded in the spare; re-armed on
  // every timeupdate, so the timer is set from a fresh position (drift, speed changes).
  function armEarly() {
    if (early !== null) { clearTimeout(early); early = null; }
    if (srcToken === null || active.paused || !spare || !spareUrl || spareUrl === srcUrl
        || spare.readyState < 4 || !Number.isFinite(active.duration)) return;
    const wait = ((active.duration - active.currentTime) * 1000) / rate - handoverLeadMs(rate);
    const token = srcToken;
    early = setTimeout(() => {
      early = null;
      if (srcToken === token && !active.paused) reportEnded(token);
    }, Math.max(0, wait));
  }

  // Both elements carry the listeners; only the active one speaks.
  function wire(el) {
    el.addEventListener('playing', () => {
      if (el !== active) return;
      armEarly();
      if (raf === null && typeof requestAnimationFrame === 'function') raf = requestAnimationFrame(loop);
    });
    el.addEventListener('timeupdate', () => { if (el === active) { tick(); armEarly(); } });
    el.addEventListener('canplaythrough', () => { if (el === spare) armEarly(); });
    el.addEventListener('pause', () => { if (el === active && early !== null) { clearTimeout(early); early = null; } });
    el.addEventListener('ended', () => {
      if (el === active) reportEnded(srcToken);
    });
    el.addEventListener('error', () => {
      if (el !== active) { if (el === spare) spareUrl = null; return; }
      if (starting || srcToken === null || !el.getAttribute('src')) return;
      listener.error?.(srcToken, new AudioLoadError('the audio could not be decoded'));
    });
  }
  wire(element);

  const inUse = (url) => url === srcUrl || url === spareUrl;

  // The spare becomes the active element and takes its place in the DOM (same attributes).
  function swap() {
    const old = active;
    active = spare;
    spare = old;
    spareUrl = srcUrl;      // the old block stays loaded there until the next preload
    for (const { name, value } of old.attributes) if (name !== 'src') active.setAttribute(name, value);
    if (old.isConnected) old.replaceWith(active);
  }

  async function download(url) {
    let lastErr;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt) await sleep(400 * 2 ** (attempt - 1));
      let res;
      try {
        res = await fetchImpl(url, { headers: headers() });
      } catch (e) {
        lastErr = new AudioLoadError(`network error: ${e.message}`, { retryable: true });
        continue;
      }
      if (!res.ok) {
        lastErr = new AudioLoadError(`audio request failed (${res.status})`,
          { status: res.status, retryable: res.status >= 500 });
        if (res.status < 500) break;
        continue;
      }
      const blob = await res.blob();
      const durationMs = Number(res.headers.get('X-Duration-Ms')) || 0;
      return { blob, durationMs };
    }
    throw lastErr;
  }

  function fetchAudio(url) {
    const existing = entries.get(url);
    if (existing) return existing.promise;
    const entry = { promise: null, blobUrl: null, durationMs: 0, released: false };
    entry.promise = download(url).then(({ blob, durationMs }) => {
      entry.blobUrl = URL.createObjectURL(blob);
      entry.durationMs = durationMs;
      if (entry.released && !inUse(url)) { URL.revokeObjectURL(entry.blobUrl); entries.delete(url); }
      return { durationMs };
    }, (err) => {
      if (entries.get(url) === entry) entries.delete(url);
      throw err;
    });
    entries.set(url, entry);
    return entry.promise;
  }

  function withTimeout(promise, ms) {
    let t;
    return Promise.race([
      promise,
      new Promise((_, reject) => {
        t = setTimeout(() => reject(new AudioLoadError('the audio took too long to load', { retryable: true })), ms);
      }),
    ]).finally(() => clearTimeout(t));
  }

  function dropReleased(exceptUrl) {
    for (const [u, e] of entries) {
      if (e.released && u !== exceptUrl && !inUse(u) && e.blobUrl) { URL.revokeObjectURL(e.blobUrl); entries.delete(u); }
    }
  }

  return {
    get element() { return active; },
    elements() { return spare ? [active, spare] : [active]; },
    listen(l) { listener = l || {}; },
    has(url) { return !!entries.get(url)?.blobUrl; },
    fetch: fetchAudio,

    // Load a block into the spare element so that play(url) can start it at once.
    preload(url) {
      if (!url || url === srcUrl || url === spareWanted) return;
      spareWanted = url;
      fetchAudio(url).then(() => {
        const entry = entries.get(url);
        if (spareWanted !== url || url === srcUrl || !entry?.blobUrl) return;
        if (!spare) {
          spare = createElement();
          wire(spare);
        }
        spareUrl = url;
        spare.preload = 'auto';
        spare.volume = volume;
        spare.muted = muted;
        applyRate(spare);
        if (spare.getAttribute('src') !== entry.blobUrl) spare.src = entry.blobUrl;
      }, () => { if (spareWanted === url) spareWanted = null; });
    },
    // Whether the spare holds this block with its audio decoded enough to play through.
    preloaded(url) { return !!spare && spareUrl === url && spare.readyState >= 4; },

    async play(url, { token } = {}) {
      wanted = token;
      if (!active.paused) active.pause();
      srcToken = null;
      // Swap before any await, so a preload() of the block after this one cannot take the spare.
      const pre = entries.get(url);
      if (spare && spareUrl === url && pre?.blobUrl && spare.getAttribute('src') === pre.blobUrl
          && active.getAttribute('src') !== pre.blobUrl) swap();
      await fetchAudio(url);
      if (wanted !== token) throw superseded();
      const entry = entries.get(url);
      if (!entry || !entry.blobUrl) throw new AudioLoadError('the audio was released');
      starting = true;
      try {
        if (active.getAttribute('src') !== entry.blobUrl) active.src = entry.blobUrl;
        if (spareWanted === url) spareWanted = null;
        srcUrl = url;
        srcToken = token;
        endedToken = null;
        if (active.currentTime !== 0) active.currentTime = 0;
        applyRate(active);
        dropReleased(url);
        await withTimeout(active.play(), loadTimeoutMs);
      } catch (err) {
        if (wanted !== token) throw superseded();
        if (srcToken === token) { srcToken = null; active.pause(); }
        if (err && err.name === 'NotAllowedError') throw err;
        throw err instanceof AudioLoadError ? err : new AudioLoadError(err?.message || 'playback failed');
      } finally {
        starting = false;
      }
      if (wanted !== token) throw superseded();
    },

    pause() { if (!active.paused) active.pause(); },

    async resume() {
      if (srcToken === null) throw new AudioLoadError('nothing to resume');
      const token = srcToken;
      await withTimeout(active.play(), loadTimeoutMs);
      if (srcToken !== token) throw superseded();
    },

    stop() {
      wanted = -1;
      srcToken = null;
      if (!active.paused) active.pause();
    },

    release(url) {
      const e = entries.get(url);
      if (!e) return;
      e.released = true;
      if (url === spareWanted) spareWanted = null;
      if (inUse(url)) return;                // still in an element: revoked at the next change
      if (e.blobUrl) { URL.revokeObjectURL(e.blobUrl); entries.delete(url); }
    },

    setSpeed(x) { rate = x; for (const el of this.elements()) applyRate(el); armEarly(); },
    setVolume(v) { volume = v; for (const el of this.elements()) el.volume = v; },
    setMuted(m) { muted = m; for (const el of this.elements()) el.muted = m; },
    currentTimeMs() { return active.currentTime * 1000; },
    get cachedCount() { return entries.size; },
  };
}
