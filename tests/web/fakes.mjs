// Test doubles for the engine and ws-client: a recording socket, a scriptable audio output,
// manual timers and a fake WebSocket class.

export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

export const flush = () => new Promise((r) => setImmediate(r));

export function fakeSocket() {
  const sent = [];
  return {
    sent,
    forgotten: [],
    send(msg) { sent.push(structuredClone(msg)); },
    forget(id) { this.forgotten.push(id); },
    synth() { return sent.filter((m) => m.type === 'synthesize'); },
    requested() { return this.synth().flatMap((m) => m.block_indices); },
    cursorMoves() { return sent.filter((m) => m.type === 'cursor_moved').map((m) => m.cursor); },
    clear() { sent.length = 0; },
  };
}

// play() returns a promise the test settles (manual) or that resolves at once (auto).
export function fakeAudio({ auto = true, durationMs = 2000 } = {}) {
  const a = {
    listener: null,
    plays: [],
    fetches: [],
    released: [],
    current: null,
    paused: true,
    speed: 1,
    fetchResult: (url) => Promise.resolve({ durationMs }),
    listen(l) { a.listener = l; },
    fetch(url) { a.fetches.push(url); return a.fetchResult(url); },
    play(url, { token }) {
      const d = deferred();
      a.plays.push({ url, token, ...d });
      a.current = { url, token };
      a.paused = false;
      if (auto) d.resolve();
      return d.promise;
    },
    pause() { a.paused = true; },
    resume() { a.paused = false; return Promise.resolve(); },
    stop() { a.paused = true; a.current = null; },
    release(url) { a.released.push(url); },
    preloads: [],
    preload(url) { a.preloads.push(url); },
    setSpeed(x) { a.speed = x; },
    setVolume() {},
    setMuted() {},
    end() { a.listener.ended(a.current.token); },
    time(ms) { a.listener.time(a.current.token, ms); },
    lastPlay() { return a.plays[a.plays.length - 1]; },
  };
  return a;
}

export function fakeTimers(start = 1000) {
  let now = start;
  let seq = 0;
  const pending = new Map();
  return {
    now: () => now,
    setTimeout(fn, ms) { const id = ++seq; pending.set(id, { fn, at: now + ms }); return id; },
    clearTimeout(id) { pending.delete(id); },
    advance(ms) {
      const target = now + ms;
      for (;;) {
        let next = null;
        for (const [id, t] of pending) if (t.at <= target && (!next || t.at < next[1].at)) next = [id, t];
        if (!next) break;
        pending.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = target;
    },
    get count() { return pending.size; },
  };
}

export function makeDoc(count, id = 'doc1') {
  return {
    id,
    title: 'Test',
    blocks: Array.from({ length: count }, (_, idx) => ({ idx, text: `Block ${idx}.`, est_duration_ms: 1000 })),
  };
}

export function status(idx, s, extra = {}) {
  return {
    type: 'status', document_id: 'doc1', block_idx: idx, status: s, model: 'espeak', voice: 'en-us',
    ...(s === 'cached' ? { audio_url: `/v1/audio/${extra.voice || 'en-us'}-${idx}`, duration_ms: 1500 } : {}),
    ...extra,
  };
}

// A WebSocket stand-in: instances are recorded; tests drive open/close/message.
export function fakeWebSocketClass() {
  const instances = [];
  class FakeWS {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.readyState = 0;
      this.closed = false;
      instances.push(this);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error('not open');
      this.sent.push(JSON.parse(data));
    }
    close() { this.closed = true; this.readyState = 3; }
    // test drivers
    open() { this.readyState = 1; this.onopen?.({}); }
    receive(msg) { this.onmessage?.({ data: JSON.stringify(msg) }); }
    drop() { this.readyState = 3; this.onclose?.({ code: 1006 }); }
  }
  FakeWS.instances = instances;
  FakeWS.last = () => instances[instances.length - 1];
  return FakeWS;
}

// The page's own synthesizer (browser mode): each synthesize() waits for the test to settle
// it (finish/fail), so the tests see the one-at-a-time order; uploads are recorded and
// fail on demand.
export function fakeSynthesizer() {
  const s = {
    calls: [],
    uploads: [],
    released: [],
    failUploads: false,
    hangUploads: false,
    synthesize({ text, voice }) {
      const d = deferred();
      s.calls.push({ text, voice, ...d });
      return d.promise;
    },
    upload(u) {
      s.uploads.push(u);
      if (s.hangUploads) return new Promise(() => {});   // a server that never answers
      return s.failUploads ? Promise.reject(new Error('offline')) : Promise.resolve({ audio_url: '/v1/audio/x' });
    },
    release(url) { s.released.push(url); },
    // settles the oldest unsettled synthesis with audio of `ms`
    finish(ms = 1500) {
      const c = s.calls.find((x) => !x.done);
      c.done = true;
      c.resolve({ url: `blob:${c.text}`, durationMs: ms, body: new Uint8Array([1, 2, 3]), type: 'audio/ogg',
        words: [{ start_ms: 0, end_ms: 400, offset: 0, length: 5 }, { start_ms: 400, end_ms: 900, offset: 6, length: 2 }] });
      return c;
    },
    fail(message = 'wasm trap') {
      const c = s.calls.find((x) => !x.done);
      c.done = true;
      c.reject(new Error(message));
      return c;
    },
    get pending() { return s.calls.filter((x) => !x.done); },
  };
  return s;
}
