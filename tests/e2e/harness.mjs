// harness.mjs — starts the real `recite serve` on a free port with a temp data dir, and a
// headless Chromium (playwright-core, the system's /usr/bin/chromium) for the journeys.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = resolve(ROOT, process.env.RECITE_BIN || 'build/recite');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

function spawnServer(port, dataDir, args, timeoutMs) {
  const child = spawn(BIN, ['serve', '--host', '127.0.0.1', '--port', String(port), '--data', dataDir, ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = { child, log: '', url: null };
  child.stderr.on('data', (d) => { proc.log += d; });
  proc.ready = new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`server did not start in ${timeoutMs} ms:\n${out}\n${proc.log}`)), timeoutMs);
    const onExit = (code) => { clearTimeout(timer); rej(new Error(`server exited (${code}) before listening:\n${out}\n${proc.log}`)); };
    child.on('exit', onExit);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/recite listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); child.off('exit', onExit); proc.url = m[1].replace(/\/$/, ''); res(proc.url); }
    });
  });
  return proc;
}

async function killProc(proc) {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); }, 5000);
  await exited;
  clearTimeout(t);
}

// Start the server; resolves once it prints "recite listening on http://HOST:PORT".
// The result can stop(), restart() on the same port and data dir, and cleanup().
export async function startServer({ port, dataDir, args = [], timeoutMs = 20000 } = {}) {
  if (!existsSync(BIN)) throw new Error(`server binary not found: ${BIN} (run make, or set RECITE_BIN)`);
  const ownDir = !dataDir;
  const data = dataDir || mkdtempSync(join(tmpdir(), 'recite-e2e-'));
  const p = port || await freePort();
  let proc = spawnServer(p, data, args, timeoutMs);
  await proc.ready;
  const server = {
    port: p,
    dataDir: data,
    get url() { return proc.url; },
    get pid() { return proc.child.pid; },
    get log() { return proc.log; },
    stop: () => killProc(proc),
    kill: async () => {                      // abrupt: SIGKILL
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
      const exited = new Promise((r) => proc.child.once('exit', r));
      proc.child.kill('SIGKILL');
      await exited;
    },
    async restart({ downMs = 0, hard = false } = {}) {
      if (hard) await server.kill(); else await killProc(proc);
      if (downMs) await new Promise((r) => setTimeout(r, downMs));
      for (let attempt = 0; ; attempt++) {   // the port may linger for a moment
        proc = spawnServer(p, data, args, timeoutMs);
        try { await proc.ready; break; } catch (e) {
          if (attempt >= 20) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      return server;
    },
    async cleanup() {
      await killProc(proc);
      if (ownDir) rmSync(data, { recursive: true, force: true });
    },
  };
  return server;
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--autoplay-policy=no-user-gesture-required',
];

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export async function newPage(browser, server, { viewport = { width: 1200, height: 850 }, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.errors = errors;
  page.base = server.url;
  return page;
}

// Create a document through the API (faster than the form, for journeys not about the form).
export async function createDoc(server, { content, format = 'text', title } = {}) {
  const res = await fetch(`${server.url}/v1/documents`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ content, format, ...(title ? { title } : {}) }),
  });
  if (res.status !== 201) throw new Error(`create document: ${res.status} ${await res.text()}`);
  return res.json();
}

// A text of `n` paragraphs, each one block (short sentences, all different).
export function paragraphs(n, words = 8) {
  const vocab = ['river', 'lantern', 'quiet', 'morning', 'garden', 'paper', 'window', 'silver', 'harbor', 'meadow',
    'candle', 'orchard', 'thunder', 'copper', 'violet', 'pebble', 'saddle', 'marble', 'willow', 'ember'];
  const out = [];
  for (let i = 0; i < n; i++) {
    const w = [];
    for (let j = 0; j < words; j++) w.push(vocab[(i * 7 + j * 3 + j * j) % vocab.length]);
    out.push(`Paragraph ${i + 1}: the ${w.join(' ')}.`);
  }
  return out.join('\n\n');
}

// Snapshot of what automation sees on the reading page (runs in the page).
function readPlayerState() {
  const btn = document.querySelector('button.play');
  const audio = document.querySelector('audio');
  const cur = document.querySelector('.doc-text [aria-current="true"]');
  const cell = document.querySelector('.cell[aria-current="true"]');
  return {
    label: btn && btn.getAttribute('aria-label'),
    currentTime: audio.currentTime,
    paused: audio.paused,
    textIdx: cur ? Number(cur.getAttribute('data-block-idx')) : null,
    cellIdx: cell ? Number(cell.getAttribute('data-block-idx')) : null,
    states: [...document.querySelectorAll('.cell')].map((c) => c.dataset.state),
    audioCount: document.querySelectorAll('audio').length,
  };
}

export async function playerState(page) {
  return page.evaluate(readPlayerState);
}

// Wait until the player state satisfies cond(state, arg), checked in the page on every
// animation frame, and return that state. For states that last only a moment (a block under
// a second long, the end of a block): waitFor() costs a round trip per check and can miss
// them on a loaded machine. `cond` is sent as source, so it may use only its arguments.
export async function waitForPlayerState(page, cond, arg = null, { timeout = 15000 } = {}) {
  const check = `(() => { const s = (${readPlayerState})(); return (${cond})(s, ${JSON.stringify(arg)}) ? s : false; })()`;
  const handle = await page.waitForFunction(check, null, { polling: 'raf', timeout });
  return handle.jsonValue();
}

// Record every accessible name the play button takes (catches short Buffering phases).
export async function recordPlayLabels(page) {
  await page.evaluate(() => {
    window.__labels = [];
    const btn = document.querySelector('button.play');
    const note = () => { const l = btn.getAttribute('aria-label'); if (window.__labels.at(-1) !== l) window.__labels.push(l); };
    note();
    new MutationObserver(note).observe(btn, { attributes: true, attributeFilter: ['aria-label'] });
  });
  return () => page.evaluate(() => window.__labels);
}

export async function waitFor(fn, { timeout = 15000, interval = 50, message = 'condition' } = {}) {
  const start = Date.now();
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${message}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
