#!/usr/bin/env node
// Distributed-mode throughput: audio seconds synthesized per wall-clock second for a fresh
// document, with 1, 2 and 3 `recite worker` processes (one worker thread each) behind a
// real redis-server, against the embedded mode with 1, 2 and 3 worker threads, on this
// machine. Every run gets a fresh data directory (and a fresh Redis), so nothing is cached.
//
//   node bench/redis_throughput.mjs [--blocks 150] [--repeat 3] [--bin build/recite]
//
// Wall time runs from the first `synthesize` to the last `cached` status; audio seconds are
// the sum of the blocks' duration_ms. With --repeat, the best run of each configuration is
// reported (the least disturbed by whatever else the machine is doing) and the spread shown.
// On a shared machine wall time depends on everyone's load, so the table also shows audio
// seconds per CPU second used by the processes of the run (server, workers, redis-server,
// from /proc): what distribution costs, whatever the load.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import WebSocket from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const BIN = resolve(arg('bin', process.env.RECITE_BIN || join(here, '../build/recite')));
const BLOCKS = Number(arg('blocks', 150));
const REPEAT = Number(arg('repeat', 3));
const HANG_MS = 600_000;

const freePort = () => new Promise((res, rej) => {
  const s = net.createServer();
  s.on('error', rej);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
});

/** Spawns a process and resolves when stdout matches re. */
function startProc(cmd, args, re, env = {}) {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '', err = '';
    const timer = setTimeout(() => rej(new Error(`${cmd} ${args.join(' ')}: not ready\n${err}`)), 20_000);
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d) => { err += d; });
    p.stdout.on('data', (d) => {
      out += d;
      if (re.test(out)) { clearTimeout(timer); res(p); }
    });
    p.on('exit', (code) => { clearTimeout(timer); rej(new Error(`${cmd} exited ${code}\n${err}`)); });
  });
}

function stop(p) {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => { p.once('exit', r); p.kill('SIGTERM'); });
}

function doc(n, tag) {
  const words = 'amber birch cedar delta ember fjord grove harbor island juniper kestrel lantern meadow'.split(' ');
  return Array.from({ length: n }, (_, i) => {
    const w = (k) => words[(i * 7 + k * 3) % words.length];
    return `Paragraph ${i} of run ${tag}. The ${w(1)} by the ${w(2)} was quiet that morning, ` +
      `and the ${w(3)} beyond the ${w(4)} caught the first light while someone read aloud ` +
      `from an old book about the ${w(5)} and the ${w(6)}.`;
  }).join('\n\n');
}

/** CPU seconds (user + system) used so far by these processes (Linux /proc, USER_HZ 100). */
async function cpuSeconds(procs) {
  let ticks = 0;
  for (const p of procs) {
    const stat = await readFile(`/proc/${p.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]);   // utime, stime (fields 14 and 15)
  }
  return ticks / 100;
}

/** Synthesizes a fresh document of BLOCKS blocks; returns {audio_s, wall_s, cpu_s}. */
async function measure(port, procs) {
  const base = `http://127.0.0.1:${port}`;
  const tag = Math.random().toString(36).slice(2, 8);
  const r = await fetch(`${base}/v1/documents`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ content: doc(BLOCKS, tag), format: 'markdown' }),
  });
  const d = await r.json();
  if (r.status !== 201 || d.block_count !== BLOCKS) throw new Error(`document: ${r.status} ${JSON.stringify(d)}`);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws/tts`);
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  const done = new Map();
  let t0;
  const finished = new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`only ${done.size}/${BLOCKS} blocks within ${HANG_MS} ms`)), HANG_MS);
    ws.on('message', (buf) => {
      const m = JSON.parse(buf.toString());
      if (m.type === 'error') { clearTimeout(timer); rej(new Error(m.error)); }
      if (m.type !== 'status') return;
      if (m.status === 'error') { clearTimeout(timer); rej(new Error(`block ${m.block_idx}: ${m.error}`)); }
      if (m.status === 'cached' || m.status === 'skipped') done.set(m.block_idx, m.duration_ms || 0);
      if (done.size === BLOCKS) { clearTimeout(timer); res(performance.now()); }
    });
  });
  const cpu0 = await cpuSeconds(procs);
  t0 = performance.now();
  for (let i = 0; i < BLOCKS; i += 32) {
    const idx = Array.from({ length: Math.min(32, BLOCKS - i) }, (_, k) => i + k);
    ws.send(JSON.stringify({ type: 'synthesize', document_id: d.id, block_indices: idx, cursor: 0,
      model: 'espeak', voice: 'en-us', synthesis_mode: 'server' }));
  }
  const t1 = await finished;
  const cpu_s = await cpuSeconds(procs) - cpu0;
  ws.close();
  const audio_s = [...done.values()].reduce((a, b) => a + b, 0) / 1000;
  return { audio_s, wall_s: (t1 - t0) / 1000, cpu_s };
}

async function runEmbedded(k) {
  const dir = await mkdtemp(join(tmpdir(), 'recite-bench-'));
  const port = await freePort();
  const srv = await startProc(BIN, ['serve', '--port', String(port), '--data', dir, '--workers', String(k)], /listening/);
  try {
    return await measure(port, [srv]);
  } finally {
    await stop(srv);
    await rm(dir, { recursive: true, force: true });
  }
}

async function runRedis(k) {
  const dir = await mkdtemp(join(tmpdir(), 'recite-bench-'));
  const rport = await freePort();
  const redis = await startProc('redis-server', ['--port', String(rport), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no', '--dir', dir], /Ready to accept connections/);
  const url = `redis://127.0.0.1:${rport}/0`;
  const port = await freePort();
  const procs = [];
  try {
    procs.push(await startProc(BIN, ['serve', '--port', String(port), '--data', dir, '--workers', '0',
      '--redis', url], /listening/));
    for (let i = 0; i < k; i++)
      procs.push(await startProc(BIN, ['worker', '--redis', url, '--workers', '1'], /worker ready/));
    return await measure(port, [...procs, redis]);
  } finally {
    for (const p of procs.reverse()) await stop(p);
    await stop(redis);
    await rm(dir, { recursive: true, force: true });
  }
}

const configs = [
  ['embedded, 1 worker thread', () => runEmbedded(1)],
  ['embedded, 2 worker threads', () => runEmbedded(2)],
  ['embedded, 3 worker threads', () => runEmbedded(3)],
  ['redis, 1 worker process', () => runRedis(1)],
  ['redis, 2 worker processes', () => runRedis(2)],
  ['redis, 3 worker processes', () => runRedis(3)],
];

console.log(`recite throughput: ${BLOCKS} blocks of ~200 characters, espeak en-us, best of ${REPEAT}`);
console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model?.trim()}), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
const rows = [];
for (let rep = 0; rep < REPEAT; rep++)
  for (const [name, fn] of configs) {
    const r = await fn();
    const x = r.audio_s / r.wall_s;
    let row = rows.find((q) => q.name === name);
    if (!row) rows.push(row = { name, runs: [] });
    row.runs.push({ ...r, x });
    process.stderr.write(`  ${name}: ${r.audio_s.toFixed(1)} s of audio in ${r.wall_s.toFixed(2)} s = ${x.toFixed(1)}x` +
      ` (${r.cpu_s.toFixed(1)} CPU s)\n`);
  }
const base = Math.max(...rows[0].runs.map((r) => r.x));
console.log('| configuration | audio s | wall s | audio s / wall s | vs embedded 1 | all runs | audio s / CPU s |');
console.log('|---|---:|---:|---:|---:|---|---:|');
for (const row of rows) {
  const best = row.runs.reduce((a, b) => (b.x > a.x ? b : a));
  const eff = row.runs.reduce((a, r) => a + r.audio_s, 0) / row.runs.reduce((a, r) => a + r.cpu_s, 0);
  console.log(`| ${row.name} | ${best.audio_s.toFixed(1)} | ${best.wall_s.toFixed(2)} | ${best.x.toFixed(1)} | ` +
    `${(best.x / base).toFixed(2)} | ${row.runs.map((r) => r.x.toFixed(1)).join(', ')} | ${eff.toFixed(1)} |`);
}
console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
