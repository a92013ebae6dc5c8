// ws-client.js — the page's one WebSocket to /v1/ws/tts.
//
// Connects, reconnects with exponential backoff (with jitter) and gives up after
// `maxAttempts` until retry() is called. It remembers, per document, which blocks were
// requested and have no final answer yet ("pending"), for the model/voice of the latest
// request; while offline new requests only join that set, and on every (re)connect the
// pending blocks inside the server's eviction window are re-sent in one `synthesize`
// (those outside it are reported back as `evicted`, so the engine may ask again later).
// Statuses and evictions for a model/voice the document no longer uses are dropped here.
// Other messages sent while offline are queued and flushed on connect.
//
// Events: on('message', fn(msg)), on('state', fn(state)) with state one of
// 'idle' | 'connecting' | 'open' | 'reconnecting' | 'failed' | 'closed'.

export const MAX_INDICES = 32;
const TERMINAL = new Set(['cached', 'skipped', 'error']);
const MAX_QUEUE = 200;

const defaultTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

export function backoffDelay(attempt, { initialDelayMs, maxDelayMs }, random = Math.random) {
  const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

export function createWsClient({
  url,
  WebSocketImpl = globalThis.WebSocket,
  timers = defaultTimers,
  random = Math.random,
  initialDelayMs = 250,
  maxDelayMs = 5000,
  maxAttempts = 12,
  connectTimeoutMs = 5000,
  bufferBehind = 8,
  bufferAhead = 16,
} = {}) {
  const handlers = { message: new Set(), state: new Set() };
  const docs = new Map();   // document_id -> { model, voice, mode, skip, cursor, pending: Set }
  let queue = [];
  let ws = null;
  let state = 'idle';
  let attempts = 0;
  let everOpened = false;
  let retryTimer = null;
  let connectTimer = null;
  let closedByUser = false;

  function emit(kind, value) { for (const fn of handlers[kind]) fn(value); }
  function setState(s) { if (s !== state) { state = s; emit('state', s); } }

  function rawSend(msg) {
    try { ws.send(JSON.stringify(msg)); return true; } catch { return false; }
  }
  const isOpen = () => ws !== null && state === 'open';

  function sendSynthesize(id, d, indices) {
    for (let i = 0; i < indices.length; i += MAX_INDICES) {
      rawSend({
        type: 'synthesize', document_id: id, block_indices: indices.slice(i, i + MAX_INDICES),
        cursor: d.cursor, model: d.model, voice: d.voice, synthesis_mode: d.mode,
        ...(d.skip ? { skip_references: true } : {}),
      });
    }
  }

  function resendPending() {
    for (const [id, d] of docs) {
      if (!d.pending.size) continue;
      const lo = d.cursor - bufferBehind, hi = d.cursor + bufferAhead;
      const keep = [], drop = [];
      for (const i of d.pending) (i >= lo && i <= hi ? keep : drop).push(i);
      for (const i of drop) d.pending.delete(i);
      keep.sort((a, b) => Math.abs(a - d.cursor) - Math.abs(b - d.cursor) || a - b);
      if (keep.length) sendSynthesize(id, d, keep);
      if (drop.length) {
        emit('message', { type: 'evicted', document_id: id, block_indices: drop.sort((a, b) => a - b),
          model: d.model, voice: d.voice });
      }
    }
    const q = queue;
    queue = [];
    for (const m of q) rawSend(m);
  }

  function clearTimers() {
    if (retryTimer !== null) { timers.clearTimeout(retryTimer); retryTimer = null; }
    if (connectTimer !== null) { timers.clearTimeout(connectTimer); connectTimer = null; }
  }

  function detach(sock) {
    sock.onopen = sock.onclose = sock.onerror = sock.onmessage = null;
  }

  function open() {
    clearTimers();
    setState(everOpened ? 'reconnecting' : 'connecting');
    let sock;
    try {
      sock = new WebSocketImpl(url);
    } catch {
      scheduleReconnect();
      return;
    }
    ws = sock;
    connectTimer = timers.setTimeout(() => {
      connectTimer = null;
      if (ws === sock && state !== 'open') { lost(sock); try { sock.close(); } catch { /* ignore */ } }
    }, connectTimeoutMs);
    sock.onopen = () => {
      if (ws !== sock) return;
      if (connectTimer !== null) { timers.clearTimeout(connectTimer); connectTimer = null; }
      attempts = 0;
      everOpened = true;
      setState('open');
      resendPending();
    };
    sock.onmessage = (ev) => {
      if (ws !== sock) return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (!msg || typeof msg !== 'object') return;
      onMessage(msg);
    };
    sock.onclose = () => { if (ws === sock) lost(sock); };
    sock.onerror = () => { /* a close event follows */ };
  }

  function lost(sock) {
    detach(sock);
    ws = null;
    if (connectTimer !== null) { timers.clearTimeout(connectTimer); connectTimer = null; }
    if (closedByUser) { setState('closed'); return; }
    scheduleReconnect();
  }

  function scheduleReconnect() {
    attempts++;
    if (attempts > maxAttempts) { setState('failed'); return; }
    setState(everOpened ? 'reconnecting' : 'connecting');
    const delay = backoffDelay(attempts, { initialDelayMs, maxDelayMs }, random);
    retryTimer = timers.setTimeout(() => { retryTimer = null; open(); }, delay);
  }

  function onMessage(msg) {
    const d = msg.document_id !== undefined ? docs.get(msg.document_id) : undefined;
    if (msg.type === 'status') {
      if (d) {
        if (msg.model !== d.model || msg.voice !== d.voice) return;
        if (TERMINAL.has(msg.status)) d.pending.delete(msg.block_idx);
      }
    } else if (msg.type === 'evicted') {
      if (d) {
        if (msg.model !== d.model || msg.voice !== d.voice) return;
        for (const i of msg.block_indices || []) d.pending.delete(i);
      }
    }
    emit('message', msg);
  }

  return {
    get state() { return state; },
    on(kind, fn) { handlers[kind].add(fn); return () => handlers[kind].delete(fn); },

    connect() {
      closedByUser = false;
      if (ws || retryTimer !== null) return;
      attempts = 0;
      open();
    },

    // Reconnect now, after giving up or while waiting for the next attempt.
    retry() {
      closedByUser = false;
      if (ws) return;
      attempts = 0;
      open();
    },

    close() {
      closedByUser = true;
      clearTimers();
      if (ws) { const s = ws; detach(s); ws = null; try { s.close(); } catch { /* ignore */ } }
      setState('closed');
    },

    send(msg) {
      if (msg.type === 'synthesize') {
        let d = docs.get(msg.document_id);
        const mode = msg.synthesis_mode || 'server';
        const skip = msg.skip_references === true;
        if (!d || d.model !== msg.model || d.voice !== msg.voice || d.mode !== mode || d.skip !== skip) {
          d = { model: msg.model, voice: msg.voice, mode, skip, cursor: msg.cursor, pending: new Set() };
          docs.set(msg.document_id, d);
        }
        d.cursor = msg.cursor;
        const indices = msg.block_indices || [];
        for (const i of indices) d.pending.add(i);
        if (isOpen() && indices.length) sendSynthesize(msg.document_id, d, indices);
        return;
      }
      if (msg.type === 'cursor_moved') {
        const d = docs.get(msg.document_id);
        if (d) d.cursor = msg.cursor;
        if (isOpen()) rawSend(msg);   // offline: the next synthesize carries the cursor
        return;
      }
      if (isOpen()) rawSend(msg);
      else if (queue.length < MAX_QUEUE) queue.push(msg);
    },

    // Stop re-sending anything for this document (the reader left it).
    forget(documentId) { docs.delete(documentId); },

    pendingFor(documentId) {
      const d = docs.get(documentId);
      return d ? [...d.pending].sort((a, b) => a - b) : [];
    },
  };
}
