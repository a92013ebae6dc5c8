// Shared helpers for the benchmarks in bench/*.mjs (docs/BENCHMARKS.md): build, start the
// real server on a free port with a temp data dir, a small WebSocket client, the raw-engine
// reference (build/bench/raw_ref), statistics and table printing. Every process a
// benchmark starts is stopped by its PID when the benchmark ends (or fails).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import WebSocket from 'ws';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = process.env.RECITE_BIN || join(ROOT, 'build/recite');
export const RAW_REF = join(ROOT, 'build/bench/raw_ref');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const now = () => performance.now();

const cleanups = [];
/** Runs fn at exit (normal or by signal), in reverse order of registration. */
export function atExit(fn) { cleanups.push(fn); }
let cleaned = false;
export function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const fn of cleanups.reverse()) { try { fn(); } catch { /* best effort */ } }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130); });

/** Builds the server and the C helpers (make is incremental). */
export function build() {
  if (process.env.RECITE_BIN) return;
  execFileSync('make', ['-s', '-j2', 'build/recite', 'bench-tools'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

export function tempDir(prefix = 'recite-bench-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  atExit(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

/** Starts `recite serve`; resolves when it prints its listening line. */
export async function startServer({ workers, args = [], dataDir } = {}) {
  const dir = dataDir || tempDir();
  const port = await freePort();
  const argv = ['serve', '--port', String(port), '--data', dir, ...(workers !== undefined ? ['--workers', String(workers)] : []), ...args];
  const proc = spawn(BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const kill = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); };
  atExit(kill);
  await new Promise((res, rej) => {
    let out = '';
    const t = setTimeout(() => rej(new Error(`server did not start:\n${log}`)), 20_000);
    proc.stdout.on('data', (d) => { out += d; if (/listening on/.test(out)) { clearTimeout(t); res(); } });
    proc.on('exit', (c) => { clearTimeout(t); rej(new Error(`server exited ${c}:\n${log}`)); });
  });
  const s = {
    proc, pid: proc.pid, port, dataDir: dir,
    url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/v1/ws/tts`,
    get log() { return log; },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.on('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(kill, 10_000);
      await exited;
      clearTimeout(t);
    },
    async json(method, path, body) {
      const r = await fetch(s.url + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
      const text = await r.text();
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : undefined;
    },
    createDoc(content, format = 'markdown') { return s.json('POST', '/v1/documents', { content, format }); },
    getDoc(id) { return s.json('GET', `/v1/documents/${id}`); },
  };
  return s;
}

/** One unlabelled sample from the server's /metrics. */
export async function metric(s, name) {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\S+)`, 'm'));
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
}

/** Resident set size of a process, MiB. */
export function rssMiB(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) / 1024;
}

/** A WebSocket client that keeps every message and can wait for one. */
export class Client {
  static connect(url, opts = {}) {
    return new Promise((res, rej) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
      const c = new Client(ws);
      ws.once('open', () => res(c));
      ws.once('error', rej);
      ws.once('unexpected-response', (req, r) => rej(new Error(`upgrade refused: ${r.statusCode}`)));
    });
  }
  constructor(ws) {
    this.ws = ws;
    this.waiters = [];
    this.keep = true;
    this.messages = [];
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      m.t = now();
      if (this.keep) this.messages.push(m);
      for (const w of [...this.waiters]) if (w.pred(m)) { this.waiters.splice(this.waiters.indexOf(w), 1); w.res(m); }
    });
  }
  send(o) { this.ws.send(JSON.stringify(o)); }
  /** Next message (from now on) matching pred. */
  next(pred, timeoutMs = 120_000, what = 'a message') {
    return new Promise((res, rej) => {
      const w = { pred, res: (m) => { clearTimeout(t); res(m); } };
      const t = setTimeout(() => { this.waiters.splice(this.waiters.indexOf(w), 1); rej(new Error(`timeout waiting for ${what}`)); }, timeoutMs);
      this.waiters.push(w);
    });
  }
  close() { this.ws.terminate(); }
}

/**
 * The cached-status path under load: every client asks for one already-cached block after
 * the other (closed loop) for `seconds`; clients[k] uses docIds[k % docIds.length], whose
 * blocks 0..blocks-1 must all be cached. Returns {lat: [ms per request], elapsed: s}.
 */
export async function cachedLoop(clients, docIds, blocks, seconds) {
  const lat = [];
  let stop = false;
  const t0 = now();
  await Promise.all(clients.map(async (c, k) => {
    const doc = docIds[k % docIds.length];
    let i = k % blocks;
    // warm: the first request of each client is not measured
    c.send(synth(doc, [i]));
    await c.next((m) => m.type === 'status');
    while (!stop) {
      i = (i + 7) % blocks;
      const t = now();
      const p = c.next((m) => m.type === 'status' && m.block_idx === i);
      c.send(synth(doc, [i]));
      const m = await p;
      if (m.status !== 'cached') throw new Error(`block ${i}: ${m.status} ${m.error || ''}`);
      lat.push(m.t - t);
      if (now() - t0 > seconds * 1000) stop = true;
    }
  }));
  return { lat, elapsed: (now() - t0) / 1000 };
}

export const synth = (document_id, block_indices, cursor = block_indices[0] ?? 0) =>
  ({ type: 'synthesize', document_id, block_indices, cursor, model: 'espeak', voice: 'en-us', synthesis_mode: 'server' });

/** Waits until every index has a final status; returns Map idx -> final status message. */
export function waitFinal(c, docId, indices, timeoutMs = 600_000) {
  const want = new Set(indices);
  const done = new Map();
  for (const m of c.messages)
    if (m.type === 'status' && m.document_id === docId && want.has(m.block_idx) && ['cached', 'skipped', 'error'].includes(m.status))
      done.set(m.block_idx, m);
  return new Promise((res, rej) => {
    if (done.size === want.size) return res(done);
    const t = setTimeout(() => rej(new Error(`timeout: ${done.size}/${want.size} final`)), timeoutMs);
    const w = {
      pred: (m) => {
        if (m.type === 'status' && m.document_id === docId && want.has(m.block_idx) && ['cached', 'skipped', 'error'].includes(m.status))
          done.set(m.block_idx, m);
        return done.size === want.size;
      },
      res: () => { clearTimeout(t); res(done); },
    };
    c.waiters.push(w);
  });
}

/** The raw-engine reference over exactly these texts (see bench/raw_ref.c). */
export function rawRef(texts, threads = 1) {
  const dir = tempDir('recite-raw-');
  const file = join(dir, 'texts');
  writeFileSync(file, texts.join('\0'));
  const out = execFileSync(RAW_REF, ['--threads', String(threads), file], { maxBuffer: 64 << 20 });
  return JSON.parse(out.toString());
}

// --- statistics and output ------------------------------------------------------------

export function pct(values, p) {
  const a = [...values].sort((x, y) => x - y);
  if (!a.length) return NaN;
  const i = Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1));
  return a[i];
}
export const median = (v) => pct(v, 50);
export const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

/** Prints a markdown table. */
export function table(title, head, rows) {
  const cells = [head, ...rows].map((r) => r.map(String));
  const w = head.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(cells[0]));
  console.log(`|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}

/** One line describing the machine and its load when the benchmark ran. */
export function machine() {
  const c = cpus();
  return `${c.length} × ${c[0].model.trim()}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, node ${process.version}`;
}

/** Sentences for documents (each benchmark adds a unique tag so nothing is cached). */
export const SENTENCES = [
  'It was a bright cold day in April, and the clocks were striking thirteen.',
  'The committee will meet again on Thursday to review the final budget proposal.',
  'She opened the window, and the smell of rain drifted into the quiet room.',
  'Most of the city\'s water comes from a reservoir forty miles to the north.',
  'After the storm, volunteers spent three days clearing fallen trees from the roads.',
  'He wasn\'t sure whether the letter had been lost or simply never sent.',
  'The new library opens at nine in the morning and closes at eight in the evening.',
  'Scientists have long suspected that the planet\'s core is cooling more slowly than expected.',
  'If you follow the river upstream, you will eventually reach the old mill.',
  'Her grandmother kept every photograph in a shoebox under the bed.',
  'The train to Edinburgh was delayed by nearly two hours because of a signal failure.',
  'Good software is written twice: once to understand the problem, and once to solve it.',
  'They walked along the beach until the lighthouse was only a speck on the horizon.',
  'In 1969, more than half a billion people watched the first moon landing on television.',
  'The recipe calls for two cups of flour, a pinch of salt, and three eggs.',
  'Nobody in the village could remember a winter as long or as dark as that one.',
];

/** A markdown document of n paragraphs of one or two sentences (typical block sizes). */
export function paragraphs(n, tag = Math.random().toString(36).slice(2, 8)) {
  return Array.from({ length: n }, (_, i) => {
    const a = SENTENCES[i % SENTENCES.length];
    const b = i % 3 === 0 ? ` ${SENTENCES[(i * 7 + 3) % SENTENCES.length]}` : '';
    return `Part ${i} ${tag}. ${a}${b}`;
  }).join('\n\n');
}

/** The raw reference as a long-lived process: render(text) → {ms, audio_ms, bytes}, so a
 *  benchmark can alternate server and reference block by block (same load on both).
 *  bin/args: another reference with the same --stdin protocol (one JSON line per text). */
export function rawServer(bin = RAW_REF, args = []) {
  const proc = spawn(bin, ['--stdin', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  atExit(() => proc.kill('SIGKILL'));
  let buf = '';
  const pending = [];
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      pending.shift()(JSON.parse(line));
    }
  });
  return {
    render(text) { return new Promise((res) => { pending.push(res); proc.stdin.write(text + '\0'); }); },
    stop() { proc.stdin.end(); },
  };
}

/** A deterministic markdown book of about targetBytes: chapters, sections, paragraphs of
 *  varied length, lists, quotes, emphasis, links, a code block and a table per chapter. */
export function markdownBook(targetBytes) {
  const words = SENTENCES.join(' ').split(/\s+/);
  let seed = 7;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const sentence = () => {
    const n = 34 + rnd(12);
    const w = Array.from({ length: n }, () => words[rnd(words.length)].replace(/[.,:;]$/, ''));
    w[0] = w[0][0].toUpperCase() + w[0].slice(1);
    if (n > 10 && rnd(3) === 0) w[4] += ',';
    return w.join(' ') + '.';
  };
  const para = (k) => Array.from({ length: k }, sentence).join(' ');
  const out = [];
  let size = 0;
  const push = (s) => { out.push(s); size += s.length + 2; };
  for (let ch = 1; size < targetBytes; ch++) {
    push(`# Chapter ${ch}: ${sentence().slice(0, -1)}`);
    for (let sec = 1; sec <= 4 && size < targetBytes; sec++) {
      push(`## Section ${ch}.${sec}`);
      for (let p = 0; p < 10; p++) push(para(1));
      push(`Some *emphasis*, some **strong words**, and [a link](https://example.com/${ch}/${sec}) in ${sentence()}`);
      push(['- ' + sentence(), '- ' + sentence(), '- ' + sentence()].join('\n'));
      push('> ' + para(2));
    }
    push('```\ncode is shown, not spoken\n```');
    push('| a | b |\n|---|---|\n| 1 | 2 |');
  }
  return out.join('\n\n');
}
