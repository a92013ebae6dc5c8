// Integration test harness: starts the real `recite` binary on a free port with a fresh
// data directory, talks to it over HTTP (fetch) and WebSocket (`ws`), and cleans up.
//
//   RECITE_BIN=$PWD/build/recite node --test --test-concurrency=1 tests/integration/
//
// Every wait is bounded (HANG_MS): these are hang guards, not performance thresholds.
// A test written with `itest()` gets its own servers, clients and temp dirs, all torn down
// at the end; when the test fails, the stderr of every server it started is printed.
import { test } from 'node:test';
import { spawn, execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import WebSocket from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.RECITE_BIN || resolve(here, '../../build/recite');
export const HANG_MS = 20_000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() until it returns a truthy value, and returns it: for state the server reaches
 *  on its own time. timeoutMs is a hang guard, not a threshold. */
export async function eventually(fn, what, timeoutMs = HANG_MS) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** A TCP port that was free a moment ago (start() retries if another process takes it). */
export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export async function makeTempDir(prefix = 'recite-it-') {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Runs a command to completion: {code, signal, stdout, stderr} (stdout as Buffer if raw). */
export function run(cmd, args, { input, timeout = HANG_MS, raw = false, env } = {}) {
  return new Promise((res, rej) => {
    const child = execFile(cmd, args, {
      timeout, encoding: raw ? 'buffer' : 'utf8', maxBuffer: 64 << 20,
      env: env ? { ...process.env, ...env } : process.env,
    }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') {   // could not spawn (ENOENT, ...)
        rej(err);
        return;
      }
      res({ code: child.exitCode, signal: child.signalCode, stdout, stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

class Server {
  constructor(opts) {
    this.opts = opts;
    this.dataDir = opts.dataDir;
    this.log = '';          // stderr of every run of this server, in order
    this.proc = null;
    this.exited = null;     // {code, signal} of the current process once it exits
    this.expectExit = false;
  }

  get url() { return `http://127.0.0.1:${this.port}`; }
  get wsUrl() { return `ws://127.0.0.1:${this.port}/v1/ws/tts`; }

  async _spawnOnce(port) {
    const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--data', this.dataDir];
    if (this.opts.workers !== undefined) args.push('--workers', String(this.opts.workers));
    args.push(...(this.opts.args || []));
    const proc = spawn(this.opts.bin || BIN, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: this.opts.env ? { ...process.env, ...this.opts.env } : process.env,
    });
    this.proc = proc;
    this.exited = null;
    this.expectExit = false;
    this.log += `--- recite ${args.join(' ')} (pid ${proc.pid}) ---\n`;
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => { this.log += d; });
    const exitP = new Promise((r) => {
      proc.on('exit', (code, signal) => {
        this.exited = { code, signal };
        r(this.exited);
      });
      proc.on('error', (err) => {   // could not run it at all (ENOENT, EACCES while relinking)
        this.log += `spawn ${BIN}: ${err.message}\n`;
        this.exited = { code: null, signal: null, error: err };
        r(this.exited);
      });
    });
    this._exitP = exitP;
    let out = '';
    proc.stdout.setEncoding('utf8');
    return new Promise((res) => {
      const timer = setTimeout(() => res({ ok: false, why: `no "listening" line within ${HANG_MS} ms` }), HANG_MS);
      proc.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/recite listening on http:\/\/([^\s:]+):(\d+)\n/);
        if (m) {
          clearTimeout(timer);
          res({ ok: true, host: m[1], port: Number(m[2]) });
        }
      });
      exitP.then((e) => {
        clearTimeout(timer);
        res({ ok: false, why: e.error ? `cannot run ${BIN}: ${e.error.message}`
          : `exited (code ${e.code}, signal ${e.signal}) before listening`, exit: e });
      });
    });
  }

  /** Starts the binary on a free port; retries a few times if the port was taken. */
  async start() {
    let last;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const r = await this._spawnOnce(port);
      if (r.ok) {
        if (r.host !== '127.0.0.1' || r.port !== port)
          throw new Error(`server announced ${r.host}:${r.port}, expected 127.0.0.1:${port}`);
        this.port = port;
        return this;
      }
      last = r;
      if (this.proc && !this.exited) await this.kill('SIGKILL');
      if (!/port|listen/i.test(this.log.split('---').pop())) break;   // not a port clash
    }
    throw new Error(`recite did not start: ${last.why}\n${this.log}`);
  }

  /** Sends a signal and waits for the process to exit: {code, signal}. */
  async stop(signal = 'SIGTERM', timeoutMs = HANG_MS) {
    if (!this.proc || this.exited) return this.exited;
    this.expectExit = true;
    this.proc.kill(signal);
    let timer;
    const e = await Promise.race([this._exitP,
      new Promise((r) => { timer = setTimeout(() => r(null), timeoutMs); })]);
    clearTimeout(timer);
    if (!e) {
      this.proc.kill('SIGKILL');
      await this._exitP;
      throw new Error(`recite (pid ${this.proc.pid}) did not exit within ${timeoutMs} ms of ${signal}`);
    }
    return e;
  }

  kill(signal = 'SIGKILL') { return this.stop(signal); }

  /** Stops (SIGTERM) if running, then starts again on the same data directory. */
  async restart() {
    if (this.proc && !this.exited) await this.stop('SIGTERM');
    return this.start();
  }

  /** Throws if the process died without being asked to (a crash during the test). */
  checkAlive() {
    if (this.exited && !this.expectExit)
      throw new Error(`recite exited unexpectedly (code ${this.exited.code}, signal ${this.exited.signal})`);
  }

  // --- HTTP helpers -------------------------------------------------------------------

  /** fetch() against the server; returns {status, headers, text, json, body (Buffer)}. */
  async http(method, path, { json, body, headers = {}, timeout = HANG_MS } = {}) {
    const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(timeout) };
    if (json !== undefined) {
      init.body = JSON.stringify(json);
      init.headers['content-type'] ??= 'application/json';
    } else if (body !== undefined) {
      init.body = body;
    }
    const res = await fetch(this.url + path, init);
    const buf = Buffer.from(await res.arrayBuffer());
    const text = buf.toString('utf8');
    let parsed;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
    return { status: res.status, headers: res.headers, body: buf, text, json: parsed };
  }
  get(path, o) { return this.http('GET', path, o); }
  post(path, o) { return this.http('POST', path, o); }

  /** POST /v1/documents; asserts 201 and returns {id, title, block_count}. */
  async createDoc(content, format = 'markdown', title) {
    const r = await this.post('/v1/documents', { json: { content, format, ...(title ? { title } : {}) } });
    if (r.status !== 201) throw new Error(`POST /v1/documents: ${r.status} ${r.text}`);
    return r.json;
  }

  async getDoc(id) {
    const r = await this.get(`/v1/documents/${id}`);
    if (r.status !== 200) throw new Error(`GET /v1/documents/${id}: ${r.status} ${r.text}`);
    return r.json;
  }

  /** /metrics parsed into {name: number} (samples without labels). */
  async metrics() {
    const r = await this.get('/metrics');
    if (r.status !== 200) throw new Error(`GET /metrics: ${r.status}`);
    return parseMetrics(r.text);
  }

  /** Opens a WebSocket client on /v1/ws/tts (or another path). */
  ws(path = '/v1/ws/tts') {
    return WsClient.connect(`ws://127.0.0.1:${this.port}${path}`);
  }
}

export function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/);
    if (m && !m[2]) out[m[1]] = Number(m[3]);
  }
  return out;
}

/** Starts a server: opts {workers, args, dataDir, bin, env}. Creates a fresh data dir if none given. */
export async function start(opts = {}) {
  const dataDir = opts.dataDir || await makeTempDir();
  const s = new Server({ ...opts, dataDir });
  s.ownsDir = !opts.dataDir;
  return s.start();
}

// --- WebSocket client -----------------------------------------------------------------

export class WsClient {
  constructor(ws) {
    this.ws = ws;
    this.messages = [];     // every parsed JSON message, in arrival order
    this.raw = [];          // frames that were not JSON
    this.closed = null;     // {code, reason} once closed
    this._waiters = new Set();
    ws.on('message', (data, isBinary) => {
      const text = data.toString('utf8');
      let msg;
      try { msg = JSON.parse(text); } catch { this.raw.push({ text, isBinary }); }
      if (msg !== undefined) this.messages.push(msg);
      this._poke();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this._poke();
    });
    ws.on('error', (err) => { this.error = err; this._poke(); });
  }

  static connect(url, timeout = HANG_MS) {
    return new Promise((res, rej) => {
      const ws = new WebSocket(url, { maxPayload: 16 << 20 });
      const client = new WsClient(ws);
      const timer = setTimeout(() => { ws.terminate(); rej(new Error(`WS connect to ${url} timed out`)); }, timeout);
      ws.once('open', () => { clearTimeout(timer); res(client); });
      ws.once('unexpected-response', (req, resp) => {
        clearTimeout(timer);
        const e = new Error(`WS upgrade refused: HTTP ${resp.statusCode}`);
        e.statusCode = resp.statusCode;
        ws.terminate();
        rej(e);
      });
      ws.once('error', (err) => { clearTimeout(timer); rej(err); });
    });
  }

  _poke() { for (const w of [...this._waiters]) w(); }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  send(obj) { this.ws.send(JSON.stringify(obj)); }
  sendRaw(data, opts = {}) { this.ws.send(data, opts); }

  /** Current message count: pass as `from` to look only at later messages. */
  mark() { return this.messages.length; }

  /**
   * Resolves with check()'s first truthy result, re-evaluated on every message and on
   * close; rejects after timeoutMs with `what` and the last messages in the error.
   */
  waitUntil(check, timeoutMs = HANG_MS, what = 'condition') {
    return new Promise((res, rej) => {
      let done = false;
      const finish = (fn, v) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this._waiters.delete(poll);
        fn(v);
      };
      const poll = () => {
        let v;
        try { v = check(); } catch (e) { finish(rej, e); return; }
        if (v) finish(res, v);
        else if (this.closed && !this._allowClosed)
          finish(rej, new Error(`WS closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}`));
      };
      const timer = setTimeout(() => finish(rej, new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last messages:\n` +
        this.messages.slice(-15).map((m) => JSON.stringify(m)).join('\n'))), timeoutMs);
      this._waiters.add(poll);
      poll();
    });
  }

  /** The first message at index >= from that matches pred. */
  waitFor(pred, timeoutMs = HANG_MS, from = 0, what = 'a matching message') {
    return this.waitUntil(() => {
      for (let i = from; i < this.messages.length; i++)
        if (pred(this.messages[i])) return this.messages[i];
      return undefined;
    }, timeoutMs, what);
  }

  /** Resolves {code, reason} when the socket closes. */
  waitClose(timeoutMs = HANG_MS) {
    this._allowClosed = true;
    return this.waitUntil(() => this.closed, timeoutMs, 'the socket to close');
  }

  statuses(docId, from = 0) {
    return this.messages.slice(from).filter((m) => m.type === 'status' && (docId === undefined || m.document_id === docId));
  }

  /** Status messages per block index: Map idx -> [status, ...] in arrival order. */
  history(docId, { voice, from = 0 } = {}) {
    const h = new Map();
    for (const m of this.statuses(docId, from)) {
      if (voice && m.voice !== voice) continue;
      if (!h.has(m.block_idx)) h.set(m.block_idx, []);
      h.get(m.block_idx).push(m);
    }
    return h;
  }

  /** Waits until every index has a final status (cached/skipped/error) after `from`. */
  waitFinal(docId, indices, { voice, from = 0, timeoutMs = HANG_MS } = {}) {
    const final = new Set(['cached', 'skipped', 'error']);
    return this.waitUntil(() => {
      const h = this.history(docId, { voice, from });
      for (const i of indices) {
        const l = h.get(i);
        if (!l || !final.has(l[l.length - 1].status)) return false;
      }
      return h;
    }, timeoutMs, `final statuses for blocks ${compact(indices)}`);
  }

  /**
   * A round trip: sends a message the server answers with an `error` and waits for that
   * answer. Messages are handled in order and replies are sent in order, so everything the
   * server said about earlier messages has arrived once this resolves.
   */
  async barrier(timeoutMs = HANG_MS) {
    const from = this.mark();
    const tag = `barrier-${Math.random().toString(36).slice(2)}`;
    this.send({ type: tag });
    return this.waitFor((m) => m.type === 'error', timeoutMs, from, 'the barrier error reply');
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.terminate();
  }
}

export function compact(indices) {
  const a = [...indices].sort((x, y) => x - y);
  return a.length > 8 ? `${a.slice(0, 4).join(',')}..${a.slice(-2).join(',')} (${a.length})` : a.join(',');
}

export const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);

export const synth = (document_id, block_indices, extra = {}) => ({
  type: 'synthesize', document_id, block_indices, cursor: block_indices[0] ?? 0,
  model: 'espeak', voice: 'en-us', synthesis_mode: 'server', ...extra,
});

/** A markdown document of n distinct short paragraphs (one block each). */
export function paragraphs(n, tag = Math.random().toString(36).slice(2, 8)) {
  const words = ['amber', 'birch', 'cedar', 'delta', 'ember', 'fjord', 'grove', 'harbor', 'island', 'juniper'];
  return Array.from({ length: n }, (_, i) =>
    `Paragraph ${i} of ${tag}: the ${words[i % 10]} and the ${words[(i * 7 + 3) % 10]} meet.`).join('\n\n');
}

// --- audio --------------------------------------------------------------------------

/** ffprobe of an audio file: {duration_s, codec, channels, sample_rate, format}. */
export async function probe(file) {
  const r = await run('ffprobe', ['-v', 'error', '-show_entries',
    'format=duration,format_name:stream=codec_name,channels,sample_rate', '-of', 'json', file]);
  if (r.code !== 0) throw new Error(`ffprobe ${file} failed (${r.code}): ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  const s = (j.streams || [])[0] || {};
  return {
    duration_s: Number(j.format?.duration),
    format: j.format?.format_name,
    codec: s.codec_name,
    channels: s.channels,
    sample_rate: Number(s.sample_rate),
  };
}

/** Decodes every frame of the first audio stream: true if it decodes without errors. */
export async function decodes(file) {
  const r = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'a:0',
    '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file]);
  return r.code === 0 && !r.stderr.trim() && Number(r.stdout.trim()) > 0;
}

// --- per-test resources ---------------------------------------------------------------

/**
 * Declares a test that gets `h` with start(opts), tmp(), and automatic teardown:
 * every server is stopped (and checked not to have crashed), every WS client closed,
 * every temp dir removed; on failure the servers' stderr is printed.
 */
export function itest(name, options, fn) {
  if (typeof options === 'function') { fn = options; options = {}; }
  test(name, { timeout: 120_000, ...options }, async (t) => {
    const servers = [];
    const dirs = [];
    const clients = [];
    const h = {
      async start(opts = {}) {
        const dataDir = opts.dataDir || await makeTempDir();
        if (!opts.dataDir) dirs.push(dataDir);
        const s = new Server({ ...opts, dataDir });
        servers.push(s);
        await s.start();
        return s;
      },
      async ws(server, path) {
        const c = await server.ws(path);
        clients.push(c);
        return c;
      },
      async tmp() {
        const d = await makeTempDir();
        dirs.push(d);
        return d;
      },
    };
    let failed = null;
    try {
      await fn(t, h);
      for (const s of servers) s.checkAlive();
    } catch (e) {
      failed = e;
    }
    for (const c of clients) c.close();
    for (const s of servers) {
      try {
        const running = s.proc && !s.exited;
        const e = await s.stop('SIGTERM');
        // a clean shutdown is part of every test (and how sanitizer builds report leaks)
        if (running && e && e.code !== 0)
          failed ??= new Error(`server exited with code ${e.code} (signal ${e.signal}) on SIGTERM`);
      } catch (e) { failed ??= e; }
      const report = s.log.match(/ERROR: \w+Sanitizer[^\n]*|runtime error:[^\n]*/);
      if (report) failed ??= new Error(`sanitizer report in the server's stderr: ${report[0]}`);
    }
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    if (failed) {
      for (const s of servers) process.stderr.write(`\n===== server stderr (${name}) =====\n${s.log}\n`);
      throw failed;
    }
  });
}

// --- Raw HTTP/1.1 on one TCP connection (keep-alive, pipelining) ----------------------

/** Whether the binary was built with HTTP keep-alive: against libwebsockets >= 4.3
 *  (server/http.h). Builds against 4.1 close every response's connection. */
export function keepAliveBuild() {
  try {
    execFileSync('pkg-config', ['--atleast-version=4.3', 'libwebsockets'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One TCP connection speaking HTTP/1.1 by hand: send() raw bytes, response() parses the
 *  next response (status line, headers, Content-Length body); `closed` is set when the
 *  server closes. Every wait is bounded by HANG_MS. */
export class HttpConn {
  static connect(port) {
    return new Promise((res, rej) => {
      const c = new HttpConn();
      c.sock = net.connect(port, '127.0.0.1', () => res(c));
      c.sock.once('error', rej);
    });
  }

  constructor() {
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.waiters = new Set();
  }

  set sock(s) {
    this._sock = s;
    s.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this._wake(); });
    s.on('close', () => { this.closed = true; this._wake(); });
    s.on('error', () => {});
  }
  get sock() { return this._sock; }

  _wake() { for (const w of this.waiters) w(); }

  send(data) { this._sock.write(data); }
  end() { this._sock.end(); }
  destroy() { this._sock.destroy(); }

  _until(cond, what) {
    return new Promise((res, rej) => {
      const check = () => {
        const v = cond();
        if (v === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        res(v);
      };
      const timer = setTimeout(() => { this.waiters.delete(check); rej(new Error(`timed out waiting for ${what}`)); }, HANG_MS);
      this.waiters.add(check);
      check();
    });
  }

  /** The next response, or null if the server closed the connection before sending one. */
  response() {
    return this._until(() => {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return this.closed ? (this.buf.length ? new Error(`a cut response: ${this.buf}`) : null) : undefined;
      const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = lines[0].match(/^HTTP\/1\.[01] (\d{3})/);
      if (!m) return new Error(`not an HTTP status line: ${lines[0]}`);
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const len = Number(headers['content-length'] ?? 0);
      if (this.buf.length < end + 4 + len) return this.closed ? new Error('a cut body') : undefined;
      const body = this.buf.subarray(end + 4, end + 4 + len);
      this.buf = this.buf.subarray(end + 4 + len);
      let json;
      try { json = JSON.parse(body.toString('utf8')); } catch { json = undefined; }
      return { status: Number(m[1]), headers, body, text: body.toString('utf8'), json };
    }, 'an HTTP response').then((r) => { if (r instanceof Error) throw r; return r; });
  }

  /** Resolves once the server has closed the connection. */
  waitClosed() { return this._until(() => (this.closed ? true : undefined), 'the server to close the connection'); }
}

/** A request as raw bytes: GET when body is undefined, else with Content-Length. */
export function rawRequest(method, path, body, headers = {}) {
  let h = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
  if (body === undefined) return `${h}\r\n`;
  return `${h}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
