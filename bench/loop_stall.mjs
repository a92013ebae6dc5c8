// Benchmark — the service thread never blocks (issue 15): the cached-status path while the
// rest of the server is busy, against the same path idle, in the same run.
//
//   node bench/loop_stall.mjs [seconds=5] [rounds=3] [clients=100]
//
// 100 WebSocket clients run the closed loop of benchmark 3b (one single-block `synthesize`
// after the other for an already-cached block). Each round measures, on one server:
//   distributed (serve --redis, two `recite worker` processes that claim a job and then
//   sit on it, RECITE_WORKER_DELAY_MS: the window fills with handed-off, unclaimed jobs):
//     idle       — nothing else happens;
//     (a) Redis  — a churn client keeps asking for uncached blocks and moving its cursor
//                  far away, so handed-off jobs are withdrawn all the time, while Redis is
//                  frozen with CLIENT PAUSE 300 ms out of every 600 ms;
//   embedded (serve --workers 0):
//     idle;
//     (b) writes — a writer process holds the database's write lock in 100 ms
//                  transactions, 20 ms apart (what a burst of big inserts does to the
//                  other connections), and a position saver PATCHes a document's
//                  position continuously; each save waits for the lock.
// The load is made of waits, not CPU, on purpose: on a shared 2-core machine CPU load
// inflates every percentile whatever the design, while a wait on the service thread shows
// up as a p99 near the pause or the lock hold. Reported: medians over rounds of the
// cached-status p50 and p99, and each loaded p99 divided by the idle p99 of the same
// round (goal: within 2x).
import { spawn, execFileSync } from 'node:child_process';
import { build, startServer, Client, synth, waitFinal, paragraphs, tempDir, median, pct, fmt, table, machine, now, cachedLoop, freePort, sleep, atExit, BIN } from './lib.mjs';

const SECONDS = Number(process.argv[2] || 5);
const ROUNDS = Number(process.argv[3] || 3);
const CLIENTS = Number(process.argv[4] || 100);
const BLOCKS = 32;
build();

const cachedText = paragraphs(BLOCKS, 'stall');
const all = Array.from({ length: BLOCKS }, (_, i) => i);

async function warm(s) {
  const d = await s.createDoc(cachedText);
  const c = await Client.connect(s.wsUrl);
  c.send(synth(d.id, all));
  await waitFinal(c, d.id, all);
  c.close();
  return d.id;
}

function startProc(cmd, args, ready, env = {}) {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    const t = setTimeout(() => rej(new Error(`${cmd} did not start: ${out}`)), 20_000);
    const on = (d) => { out += d; if (ready.test(out)) { clearTimeout(t); res(p); } };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    atExit(() => { if (p.exitCode === null) p.kill('SIGKILL'); });
  });
}

/** Keeps the workers busy: a fresh 400-block document asked for 16 blocks at a time, the
 *  cursor then jumping 200 blocks on (evicting what is still queued or handed off). */
async function churn(s, stopAt) {
  const d = await s.createDoc(paragraphs(400, `churn${Math.random()}`));
  const c = await Client.connect(s.wsUrl);
  c.keep = false;
  let k = 0;
  while (now() < stopAt) {
    const idx = Array.from({ length: 16 }, (_, i) => (k + i) % 400);
    c.send(synth(d.id, idx, idx[0]));
    await sleep(40);
    c.send({ type: 'cursor_moved', document_id: d.id, cursor: (k + 200) % 400 });
    await sleep(20);
    k = (k + 16) % 400;
  }
  c.close();
}

/** Holds the database's write lock in 100 ms transactions, back to back, until killed. */
function lockHolder(dataDir, docId) {
  const py = `import sqlite3, time
db = sqlite3.connect(${JSON.stringify(dataDir + '/recite.db')}, timeout=30, isolation_level=None)
while True:
    db.execute('BEGIN IMMEDIATE')
    db.execute('UPDATE documents SET last_block_idx = last_block_idx WHERE id = ?', (${JSON.stringify(docId)},))
    time.sleep(0.1)
    db.execute('COMMIT')
    time.sleep(0.02)
`;
  const p = spawn('python3', ['-c', py], { stdio: 'ignore' });
  atExit(() => { if (p.exitCode === null) p.kill('SIGKILL'); });
  return p;
}

/** PATCHes a document's position back to back until stopAt; returns what happened. */
async function positions(s, docId, stopAt) {
  let ok = 0, failed = 0;
  while (now() < stopAt) {
    const r = await fetch(`${s.url}/v1/documents/${docId}/position`, {
      method: 'PATCH', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ block_idx: (ok + failed) % BLOCKS }),
    });
    await r.arrayBuffer();
    if (r.status === 200) ok++;
    else failed++;   /* the busy timeout ran out (500) */
  }
  return failed ? `${ok} position saves, ${failed} failed` : `${ok} position saves`;
}

/** Freezes Redis for 300 ms out of every 600 ms until stopAt; returns the pauses made. */
async function pauser(rport, stopAt) {
  let n = 0;
  while (now() < stopAt) {
    execFileSync('redis-cli', ['-p', String(rport), 'CLIENT', 'PAUSE', '300', 'ALL'], { stdio: 'ignore' });
    n++;
    await sleep(600);
  }
  return n;
}

async function measure(s, docId, load) {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => Client.connect(s.wsUrl)));
  for (const c of clients) c.keep = false;
  const stopAt = now() + SECONDS * 1000 + 500;
  const side = load ? load(stopAt) : Promise.resolve();
  const { lat } = await cachedLoop(clients, [docId], BLOCKS, SECONDS);
  const extra = await side;
  for (const c of clients) c.close();
  return { p50: median(lat), p99: pct(lat, 99), n: lat.length, extra };
}

// --- the servers ---------------------------------------------------------------------
// The cache is made once, by an embedded server with workers; then both measured servers
// open that data directory (SQLite allows it) with no synthesis of their own.
const warmup = await startServer({ workers: 2 });
const docId = await warm(warmup);
await warmup.stop();
const rport = await freePort();
const redis = await startProc('redis-server', ['--port', String(rport), '--bind', '127.0.0.1',
  '--save', '', '--appendonly', 'no'], /Ready to accept/);
const rurl = `redis://127.0.0.1:${rport}/0`;
const dist = await startServer({ workers: 0, dataDir: warmup.dataDir, args: ['--redis', rurl] });
const workers = [];
for (let i = 0; i < 2; i++)
  workers.push(await startProc(BIN, ['worker', '--redis', rurl, '--workers', '1'], /worker ready/,
    { RECITE_WORKER_DELAY_MS: '600000' }));
const emb0 = await startServer({ workers: 0, dataDir: warmup.dataDir });
const distDoc = docId, embDoc = docId;

const R = { distIdle: [], a: [], embIdle: [], b: [] };
for (let r = 0; r < ROUNDS; r++) {
  R.distIdle.push(await measure(dist, distDoc));
  R.a.push(await measure(dist, distDoc, async (stopAt) => {
    const [, pauses] = await Promise.all([churn(dist, stopAt), pauser(rport, stopAt)]);
    return `${pauses} pauses`;
  }));
  R.embIdle.push(await measure(emb0, embDoc));
  R.b.push(await measure(emb0, embDoc, async (stopAt) => {
    const holder = lockHolder(emb0.dataDir, embDoc);
    const saves = await positions(emb0, embDoc, stopAt);
    holder.kill('SIGKILL');
    return saves;
  }));
}
const withdrawn = (await (await fetch(`${dist.url}/metrics`)).text()).match(/recite_evictions_total (\d+)/);
await dist.stop();
await emb0.stop();
for (const w of workers) w.kill('SIGTERM');
redis.kill('SIGTERM');

const m = (xs, k) => median(xs.map((x) => x[k]));
const ratio = (xs, idle) => median(xs.map((x, i) => x.p99 / idle[i].p99));
const row = (name, xs, idle) => [name, fmt(m(xs, 'p50'), 2), fmt(m(xs, 'p99'), 2),
  idle ? fmt(ratio(xs, idle), 2) + '×' : '1 (reference)', xs.map((x) => fmt(x.p99, 1)).join(', '),
  xs.map((x) => x.extra || '').filter(Boolean).join('; ')];
console.log(`# The cached-status path while the server is busy — ${CLIENTS} WebSocket clients, ${SECONDS} s per phase, ${ROUNDS} rounds, medians (${machine()})`);
console.log(`# binary: ${BIN}; evictions counted by the distributed server: ${withdrawn ? withdrawn[1] : '?'}`);
table('synthesize → cached status', ['phase', 'p50 ms', 'p99 ms', 'p99 / idle p99 (same round)', 'per-round p99', 'load made'], [
  row('distributed, idle', R.distIdle),
  row('(a) Redis paused 300/600 ms + withdrawals', R.a, R.distIdle),
  row('embedded, idle', R.embIdle),
  row('(b) workers inserting + position saves', R.b, R.embIdle),
]);
