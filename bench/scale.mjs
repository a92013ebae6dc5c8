// Benchmark 4 — scale (docs/BENCHMARKS.md).
//
//   node bench/scale.mjs [connections=10000] [probes=100]
//
// Holds N idle WebSocket connections open against one server (the fd limit of this process
// and of the server it starts is raised with prlimit first), then measures the server's
// resident memory (VmRSS) and whether a new client still gets answers quickly: for each
// probe a fresh WebSocket connect + one `synthesize` of a cached block → its `cached`
// status, and a GET /healthz on a fresh HTTP connection. Reference in the same run: the
// same probes against the same server before the idle connections were opened.
// Goals: RSS ≤ 200 MB with N open; a new client answered in < 10 ms.
import { execFileSync, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { build, startServer, Client, synth, waitFinal, paragraphs, rssMiB, median, pct, fmt, table, machine, now, sleep } from './lib.mjs';

// The probes run in a process of their own (this script with --probe), so that what they
// measure is the server and not the garbage collector of the process holding N sockets.
if (process.argv[2] === '--probe') {
  const [url, docId, count] = process.argv.slice(3);
  const agent = new http.Agent({ keepAlive: false });
  const healthz = () => new Promise((res, rej) => {
    const t = now();
    http.get(`${url}/healthz`, { agent }, (r) => { r.resume(); r.on('end', () => res(now() - t)); }).on('error', rej);
  });
  const wsUrl = url.replace('http:', 'ws:') + '/v1/ws/tts';
  const out = { ws: [], wsConnect: [], hz: [] };
  for (let i = 0; i < Number(count); i++) {
    const t0 = now();
    const c = await Client.connect(wsUrl);
    const t1 = now();
    const p = c.next((m) => m.type === 'status');
    c.send(synth(docId, [i % 4]));
    const m = await p;
    if (m.status !== 'cached') throw new Error(`probe: ${m.status}`);
    out.ws.push(m.t - t0);
    out.wsConnect.push(t1 - t0);
    c.close();
    out.hz.push(await healthz());
    await sleep(10);
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

const N = Number(process.argv[2] || 10000);
const PROBES = Number(process.argv[3] || 100);
const LIMIT = N + 4096;
// raise our own fd limit (children inherit it): prlimit can raise the hard limit as root
try {
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${LIMIT}:${LIMIT}`]);
} catch (e) {
  console.error(`prlimit failed (${e.message.split('\n')[0]}); running with the current limit`);
}
build();
const s = await startServer({ workers: 2, args: ['--max-connections', String(N + 1000)] });
const doc = await s.createDoc(paragraphs(4, 'scale'));
const c0 = await Client.connect(s.wsUrl);
c0.send(synth(doc.id, [0, 1, 2, 3]));
await waitFinal(c0, doc.id, [0, 1, 2, 3]);
c0.close();

function probes() {
  return new Promise((res, rej) => execFile(process.execPath, [fileURLToPath(import.meta.url), '--probe', s.url, doc.id, String(PROBES)],
    (err, stdout) => (err ? rej(err) : res(JSON.parse(stdout)))));
}

await sleep(500);
const rss0 = rssMiB(s.pid);
const before = await probes();

// open N idle connections, 200 at a time
const idle = [];
const t0 = now();
for (let i = 0; i < N; i += 200) {
  const batch = await Promise.all(Array.from({ length: Math.min(200, N - i) }, () => Client.connect(s.wsUrl)));
  for (const c of batch) { c.keep = false; idle.push(c); }
}
const openS = (now() - t0) / 1000;
await sleep(2000);
const metrics = await (await fetch(`${s.url}/metrics`)).text();
const wsGauge = Number(metrics.match(/^recite_ws_connections (\d+)/m)?.[1]);
const rssN = rssMiB(s.pid);
const after = await probes();
const rssAfter = rssMiB(s.pid);
const clientRss = process.memoryUsage().rss / 2 ** 20;
for (const c of idle) c.close();
await sleep(1000);
const rssClosed = rssMiB(s.pid);
await s.stop();

const row = (name, v) => [name, fmt(median(v), 2), fmt(pct(v, 90), 2), fmt(pct(v, 99), 2), fmt(Math.max(...v), 2)];
console.log(`# Scale — ${N} idle WebSocket connections (${machine()})`);
console.log(`opened in ${fmt(openS, 1)} s; the server counts ${wsGauge} WebSocket connections; the load client used ${fmt(clientRss, 0)} MiB`);
table('server memory (VmRSS)', ['state', 'MiB', 'per idle connection'], [
  ['idle, before', fmt(rss0, 1), ''],
  [`${N} idle WebSockets open`, fmt(rssN, 1), `${fmt(((rssN - rss0) * 1024) / N, 2)} KiB`],
  ['after the probes', fmt(rssAfter, 1), ''],
  ['all closed again', fmt(rssClosed, 1), ''],
  ['goal', '≤ 200 MB', rssN * 1.048576 <= 200 ? 'met' : 'missed'],
]);
table(`a new client, ${PROBES} probes, ms (reference: same probes before the idle connections)`, ['probe', 'p50', 'p90', 'p99', 'max'], [
  row('before: WS connect + synthesize → cached', before.ws),
  row('before: GET /healthz (new connection)', before.hz),
  row(`with ${N} open: WS connect (upgrade done)`, after.wsConnect),
  row(`with ${N} open: WS connect + synthesize → cached`, after.ws),
  row(`with ${N} open: GET /healthz (new connection)`, after.hz),
]);
console.log(`\ngoal: a new client answered in < 10 ms (p99 connect + cached status ${fmt(pct(after.ws, 99), 2)} ms): ${pct(after.ws, 99) < 10 ? 'met' : 'missed'}`);
