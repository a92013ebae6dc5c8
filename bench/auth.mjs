// Benchmark — the cost of accounts (--auth) on the cached-status path (issue 11).
//
//   node bench/auth.mjs [seconds=5] [rounds=3] [clients=100] [users=10]
//
// Two servers from the same binary, both with the same 32 cached blocks per document:
//   reference: single-user mode (no --auth);
//   --auth:    `users` accounts made with `recite user add`, each with its own copy of the
//              document; client k signs in as user k % users (?token= on the WebSocket).
//              --rate-blocks 0 (no limit) so the loop measures the credential and owner
//              checks, not the limiter refusing the benchmark itself.
// Each round runs the closed loop of benchmark 3b (100 WebSocket clients, one single-block
// `synthesize` after the other for a cached block) against one server then the other
// (ABBA: the order flips every round).
// Reported: medians over rounds of p50/p99 latency, statuses/s and the server's CPU time per
// status (the least load-sensitive of them on a shared machine), the ratio --auth /
// reference, and the time to open the 100 WebSockets (the upgrade is where the token is
// checked). Goal: within 5% on the cached path.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { build, startServer, Client, synth, waitFinal, paragraphs, tempDir, median, pct, fmt, table, machine, now, cachedLoop, BIN } from './lib.mjs';

const SECONDS = Number(process.argv[2] || 5);
const ROUNDS = Number(process.argv[3] || 3);
const CLIENTS = Number(process.argv[4] || 100);
const USERS = Number(process.argv[5] || 10);
const BLOCKS = 32;
build();

const text = paragraphs(BLOCKS, 'auth');
const all = Array.from({ length: BLOCKS }, (_, i) => i);

async function warm(wsUrl, docId) {
  const c = await Client.connect(wsUrl);
  c.send(synth(docId, all));
  await waitFinal(c, docId, all);
  c.close();
}

// reference: single-user mode
const plain = await startServer({ workers: 2 });
const pdoc = await plain.createDoc(text);
await warm(plain.wsUrl, pdoc.id);

// --auth: USERS accounts, each with the same document (so the same cached audio)
const dir = tempDir();
const tokens = Array.from({ length: USERS }, (_, i) =>
  execFileSync(BIN, ['user', 'add', `user${i}`, '--data', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
const auth = await startServer({ workers: 2, dataDir: dir, args: ['--auth', '--rate-blocks', '0'] });
const adocs = [];
for (const t of tokens) {
  const r = await fetch(`${auth.url}/v1/documents`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
    body: JSON.stringify({ content: text, format: 'markdown' }),
  });
  adocs.push((await r.json()).id);
}
await warm(`${auth.wsUrl}?token=${tokens[0]}`, adocs[0]);

// CPU seconds the server process has used (utime + stime): per status, the cost measure
// the machine's other load distorts least.
function cpuS(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function round(server, urlOf, docIds) {
  const c0 = cpuS(server.pid);
  const t0 = now();
  const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, k) => Client.connect(urlOf(k))));
  const connectMs = now() - t0;
  for (const c of clients) c.keep = false;
  const { lat, elapsed } = await cachedLoop(clients, docIds, BLOCKS, SECONDS);
  for (const c of clients) c.close();
  const cpuUs = (cpuS(server.pid) - c0) * 1e6 / lat.length;
  return { p50: median(lat), p99: pct(lat, 99), rate: lat.length / elapsed, connectMs, cpuUs };
}

const P = [], A = [];
for (let r = 0; r < ROUNDS; r++) {
  // ABBA order, so a drift in the machine's other load falls on both alike
  const pair = [
    async () => P.push(await round(plain, () => plain.wsUrl, [pdoc.id])),
    async () => A.push(await round(auth, (k) => `${auth.wsUrl}?token=${tokens[k % USERS]}`, adocs)),
  ];
  if (r % 2) pair.reverse();
  for (const run of pair) await run();
}
await plain.stop();
await auth.stop();

const m = (xs, k) => median(xs.map((x) => x[k]));
const row = (name, xs) => [name, fmt(m(xs, 'p50'), 2), fmt(m(xs, 'p99'), 2), fmt(m(xs, 'rate'), 0), fmt(m(xs, 'cpuUs'), 1), fmt(m(xs, 'connectMs'), 0),
  xs.map((x) => `${fmt(x.p50, 2)}/${fmt(x.p99, 2)}`).join(', ')];
console.log(`# Accounts on the cached-status path — ${CLIENTS} WebSocket clients, ${SECONDS} s closed loop, ${ROUNDS} alternating rounds, medians (${machine()})`);
table('synthesize → cached status', ['server', 'p50 ms', 'p99 ms', 'statuses/s', 'server CPU µs/status', `open ${CLIENTS} sockets ms`, 'per-round p50/p99'], [
  row('single-user mode (reference)', P),
  row(`--auth, ${USERS} users (token per socket)`, A),
  ['--auth / reference', fmt(m(A, 'p50') / m(P, 'p50'), 3) + '×', fmt(m(A, 'p99') / m(P, 'p99'), 3) + '×',
    fmt(m(A, 'rate') / m(P, 'rate'), 3) + '×', fmt(m(A, 'cpuUs') / m(P, 'cpuUs'), 3) + '×',
    fmt(m(A, 'connectMs') / m(P, 'connectMs'), 3) + '×', 'goal: within 5%'],
]);
