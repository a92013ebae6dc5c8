// audio-output.js — the page's single HTMLAudioElement, driven by the engine.
//
// fetch(url) downloads a block's Ogg Opus once (retrying network failures), keeps it as a
// blob URL and reports X-Duration-Ms; play(url, {token}) puts that blob in the element and
// resolves once sound starts (rejects after `loadTimeoutMs`, or with an AbortError-like
// `superseded` error when a newer play() replaced it). Events carry the token of the source
// actually in the element, so an `ended` from a replaced block can never advance the cursor.
// Speed keeps pitch (preservesPitch). release(url) revokes the blob URL (deferred while that
// source is still in the element).

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

export function createAudioOutput({
  element,
  fetchImpl = (...a) => fetch(...a),
  loadTimeoutMs = 8000,
  retries = 2,
  headers = () => ({}),
} = {}) {
  const entries = new Map();   // url -> { promise, blobUrl, durationMs, released }
  let listener = {};
  let wanted = 0;              // token of the latest play() request
  let srcToken = null;         // token of the source now in the element
  let srcUrl = null;
  let rate = 1;
  let raf = null;
  let starting = false;        // inside play(): element errors are reported by the promise

  function applyRate() {
    element.preservesPitch = true;
    if ('webkitPreservesPitch' in element) element.webkitPreservesPitch = true;
    element.defaultPlaybackRate = rate;
    element.playbackRate = rate;
  }
  applyRate();

  function tick() {
    if (srcToken !== null) listener.time?.(srcToken, element.currentTime * 1000);
  }
  function loop() {
    tick();
    raf = element.paused ? null : requestAnimationFrame(loop);
  }
  element.addEventListener('playing', () => {
    if (raf === null && typeof requestAnimationFrame === 'function') raf = requestAnimationFrame(loop);
  });
  element.addEventListener('timeupdate', tick);
  element.addEventListener('ended', () => {
    if (srcToken !== null) listener.ended?.(srcToken);
  });
  element.addEventListener('error', () => {
    if (starting || srcToken === null || !element.getAttribute('src')) return;
    listener.error?.(srcToken, new AudioLoadError('the audio could not be decoded'));
  });

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
      if (entry.released && srcUrl !== url) { URL.revokeObjectURL(entry.blobUrl); entries.delete(url); }
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
      if (e.released && u !== exceptUrl && e.blobUrl) { URL.revokeObjectURL(e.blobUrl); entries.delete(u); }
    }
  }

  return {
    element,
    listen(l) { listener = l || {}; },
    has(url) { return !!entries.get(url)?.blobUrl; },
    fetch: fetchAudio,

    async play(url, { token } = {}) {
      wanted = token;
      if (!element.paused) element.pause();
      srcToken = null;
      await fetchAudio(url);
      if (wanted !== token) throw superseded();
      const entry = entries.get(url);
      if (!entry || !entry.blobUrl) throw new AudioLoadError('the audio was released');
      starting = true;
      try {
        if (element.getAttribute('src') !== entry.blobUrl) {
          element.src = entry.blobUrl;
        }
        srcUrl = url;
        srcToken = token;
        element.currentTime = 0;
        applyRate();
        dropReleased(url);
        await withTimeout(element.play(), loadTimeoutMs);
      } catch (err) {
        if (wanted !== token) throw superseded();
        if (srcToken === token) { srcToken = null; element.pause(); }
        if (err && err.name === 'NotAllowedError') throw err;
        throw err instanceof AudioLoadError ? err : new AudioLoadError(err?.message || 'playback failed');
      } finally {
        starting = false;
      }
      if (wanted !== token) throw superseded();
    },

    pause() { if (!element.paused) element.pause(); },

    async resume() {
      if (srcToken === null) throw new AudioLoadError('nothing to resume');
      const token = srcToken;
      await withTimeout(element.play(), loadTimeoutMs);
      if (srcToken !== token) throw superseded();
    },

    stop() {
      wanted = -1;
      srcToken = null;
      if (!element.paused) element.pause();
    },

    release(url) {
      const e = entries.get(url);
      if (!e) return;
      e.released = true;
      if (url === srcUrl) return;            // still in the element: revoked at the next change
      if (e.blobUrl) { URL.revokeObjectURL(e.blobUrl); entries.delete(url); }
    },

    setSpeed(x) { rate = x; applyRate(); },
    setVolume(v) { element.volume = v; },
    setMuted(m) { element.muted = m; },
    currentTimeMs() { return element.currentTime * 1000; },
    get cachedCount() { return entries.size; },
  };
}
