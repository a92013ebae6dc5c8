// browser-tts.js — the synthesizer the engine uses for model `browser` (engine.js header):
// a module Web Worker (tts-worker.js) does the synthesis and encoding off the main thread;
// this side turns its answers into blob URLs to play from memory, and uploads each block
// with POST /v1/audio, retrying with backoff (a failed upload is only logged: the block
// plays anyway; the engine tries again later while it keeps the block, and the next visit
// synthesizes it again). A refusal (4xx other than 408/429) is thrown with `final: true`:
// the same upload would always get it. The engine's `signal` aborts an upload whose block it
// dropped, so a block waiting to retry does not keep its audio alive.
import * as api from './api.js';

export const UPLOAD_RETRIES = 4;
export const UPLOAD_BACKOFF_MS = 1000;   // doubled after each failed attempt

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return; }
    const t = setTimeout(() => { signal?.removeEventListener('abort', stop); resolve(); }, ms);
    function stop() { clearTimeout(t); reject(signal.reason); }
    signal?.addEventListener('abort', stop, { once: true });
  });
}

export function createBrowserSynthesizer({
  workerUrl = new URL('./tts-worker.js', import.meta.url),
  WorkerImpl = globalThis.Worker,
  uploadImpl = api.uploadAudio,
  langOf = () => '',
  retries = UPLOAD_RETRIES,
  backoffMs = UPLOAD_BACKOFF_MS,
} = {}) {
  let worker = null;
  let seq = 0;
  const pending = new Map();   // id -> { resolve, reject }

  function failAll(message) {
    for (const p of pending.values()) p.reject(new Error(message));
    pending.clear();
    worker?.terminate();
    worker = null;   // the next request starts a new one
  }

  function ensureWorker() {
    if (worker) return worker;
    worker = new WorkerImpl(workerUrl, { type: 'module' });
    worker.onmessage = (e) => {
      const m = e.data || {};
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m);
      else p.reject(new Error(m.error || 'synthesis failed'));
    };
    worker.onerror = (e) => { e.preventDefault?.(); failAll(`the speech worker failed: ${e.message || 'could not load'}`); };
    return worker;
  }

  return {
    synthesize({ text, voice }) {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ensureWorker().postMessage({ id, text, voice, lang: langOf(voice) });
      }).then((m) => {
        const blob = new Blob([m.body], { type: m.type });
        return { url: URL.createObjectURL(blob), durationMs: m.durationMs, words: m.words,
          body: blob, type: m.type, synthMs: m.synthMs, encodeMs: m.encodeMs };
      });
    },

    async upload({ documentId, idx, model, voice, body, type, words, skipReferences, signal }) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await uploadImpl({ documentId, idx, model, voice, body, type, words, skipReferences, signal });
        } catch (err) {
          if (signal?.aborted) throw signal.reason;   // the engine dropped the block
          // a refusal (4xx other than timeouts/limits) will not change by trying again
          const final = err?.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
          if (final || attempt >= retries) {
            console.warn(`recite: block ${idx} was not shared with the server: ${err?.message || err}`);
            if (final && err && typeof err === 'object') err.final = true;
            throw err;
          }
          await sleep(backoffMs * 2 ** attempt, signal);
        }
      }
    },

    // Loads the engine ahead of the first block (24 MB of voice data and a WebAssembly
    // compile, ~1 s): called when a browser voice is chosen or saved.
    warm() { ensureWorker().postMessage({ warm: true }); },

    release(url) { if (url && url.startsWith('blob:')) URL.revokeObjectURL(url); },

    terminate() { failAll('stopped'); },
  };
}
