// Benchmark 3 — cache hits (docs/BENCHMARKS.md).
//
//   node bench/cache.mjs [seconds=10] [rounds=3] [clients=100]
//
// (a) GET /v1/audio/{hash} requests per second with wrk (50 connections, one wrk thread),
//     against nginx serving the same bytes from a file on the same machine, with the same
//     headers (nginx started here with its own temporary config on a free loopback port, one
//     worker process like recite's one service thread; stopped by PID): a connection per
//     request, and keep-alive where recite has it (libwebsockets >= 4.3). Rounds alternate
//     recite / nginx. Goal: recite ≥ 0.9 × nginx.
// (b) `synthesize` → `cached` status latency for blocks that are already cached, with 100
//     WebSocket clients at once, each sending one single-block request after the other
//     (closed loop) for the same duration. Reported: p50 / p99 and statuses per second.
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, startServer, Client, synth, waitFinal, paragraphs, tempDir, freePort, atExit, sleep, median, pct, fmt, table, machine, cachedLoop } from './lib.mjs';

const SECONDS = Number(process.argv[2] || 10);
const ROUNDS = Number(process.argv[3] || 3);
const CLIENTS = Number(process.argv[4] || 100);
build();

const s = await startServer({ workers: 2 });
const doc = await s.createDoc(paragraphs(32, 'cache'));
const c0 = await Client.connect(s.wsUrl);
c0.send(synth(doc.id, Array.from({ length: 32 }, (_, i) => i)));
const finals = await waitFinal(c0, doc.id, Array.from({ length: 32 }, (_, i) => i));
c0.close();
const first = finals.get(0);
const hash = first.audio_url.split('/').pop();
const audio = Buffer.from(await (await fetch(s.url + first.audio_url)).arrayBuffer());

// nginx: the same bytes from a file, with recite's headers
const ndir = tempDir('recite-nginx-');
mkdirSync(join(ndir, 'audio'));
writeFileSync(join(ndir, 'audio', hash), audio);
const nport = await freePort();
writeFileSync(join(ndir, 'nginx.conf'), `
worker_processes 1;
daemon off;
master_process off;
pid ${ndir}/nginx.pid;
error_log ${ndir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60;
  client_body_temp_path ${ndir}/tmp;
  proxy_temp_path ${ndir}/tmp;
  fastcgi_temp_path ${ndir}/tmp;
  uwsgi_temp_path ${ndir}/tmp;
  scgi_temp_path ${ndir}/tmp;
  server {
    listen 127.0.0.1:${nport};
    location /v1/audio/ {
      alias ${ndir}/audio/;
      types { } default_type audio/ogg;
      etag on;
      add_header X-Duration-Ms ${first.duration_ms};
      add_header Cache-Control "public, max-age=31536000, immutable";
      add_header Access-Control-Expose-Headers "X-Duration-Ms, ETag";
    }
  }
}
`);
const nginx = spawn('nginx', ['-p', ndir, '-c', join(ndir, 'nginx.conf')], { stdio: 'ignore' });
atExit(() => nginx.kill('SIGKILL'));
for (let i = 0; i < 50; i++) {
  try { if ((await fetch(`http://127.0.0.1:${nport}/v1/audio/${hash}`)).status === 200) break; } catch { /* not up yet */ }
  await sleep(100);
}
const check = Buffer.from(await (await fetch(`http://127.0.0.1:${nport}/v1/audio/${hash}`)).arrayBuffer());
if (!check.equals(audio)) throw new Error('nginx does not serve the same bytes');

function wrk(url, close = false) {
  const out = execFileSync('wrk', ['-t1', '-c50', `-d${SECONDS}s`, '--latency', ...(close ? ['-H', 'Connection: close'] : []), url], { encoding: 'utf8' });
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
  const p50 = out.match(/50%\s+([\d.]+)(us|ms|s)/);
  const p99 = out.match(/99%\s+([\d.]+)(us|ms|s)/);
  const ms = (m) => Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/);
  if (errors) throw new Error(`wrk: ${errors[1]} errors against ${url}`);
  return { rps, p50: ms(p50), p99: ms(p99) };
}

// Two comparisons, each like for like: a connection per request (wrk sends
// `Connection: close` to both), and, where recite is built with keep-alive (libwebsockets
// >= 4.3, src/server/http.h), keep-alive against nginx with keep-alive. Built against lws
// 4.1 recite closes every connection, so only the first is measured and nginx with
// keep-alive is shown for context.
let KEEP = false;
try { execFileSync('pkg-config', ['--atleast-version=4.3', 'libwebsockets'], { stdio: 'ignore' }); KEEP = true; } catch { /* lws 4.1 */ }
const lws = execFileSync('pkg-config', ['--modversion', 'libwebsockets'], { encoding: 'utf8' }).trim();
const nginxVersion = execFileSync('sh', ['-c', 'nginx -v 2>&1'], { encoding: 'utf8' }).trim();
const R = [], N = [], K = [], RK = [];
for (let round = 0; round < ROUNDS; round++) {
  R.push(wrk(`${s.url}/v1/audio/${hash}`, true));
  N.push(wrk(`http://127.0.0.1:${nport}/v1/audio/${hash}`, true));
  if (KEEP) RK.push(wrk(`${s.url}/v1/audio/${hash}`));
  K.push(wrk(`http://127.0.0.1:${nport}/v1/audio/${hash}`));
}
nginx.kill('SIGTERM');

// (b) 100 WebSocket clients asking for cached blocks, closed loop
const clients = [];
for (let i = 0; i < CLIENTS; i++) {
  const c = await Client.connect(s.wsUrl);
  c.keep = false;
  clients.push(c);
}
const { lat, elapsed } = await cachedLoop(clients, [doc.id], 32, SECONDS);
for (const c of clients) c.close();
const rssServer = Number(readFileSync(`/proc/${s.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
await s.stop();

const rr = median(R.map((x) => x.rps)), nr = median(N.map((x) => x.rps)), kr = median(K.map((x) => x.rps));
const row = (name, l) => [name, fmt(median(l.map((x) => x.rps)), 0), fmt(median(l.map((x) => x.p50)), 2), fmt(median(l.map((x) => x.p99)), 2), l.map((x) => fmt(x.rps, 0)).join(', ')];
console.log(`# Cache hits — ${audio.length}-byte Ogg Opus block, wrk -t1 -c50 -d${SECONDS}s, ${ROUNDS} alternating rounds, medians (${machine()}; libwebsockets ${lws}, ${nginxVersion})`);
const rows = [
  row('nginx, a connection per request (reference: file, sendfile, 1 worker)', N),
  row('recite, a connection per request (hot cache, 1 service thread)', R),
  ['recite / nginx, a connection per request', fmt(rr / nr, 3) + '×', '', '', `goal ≥ 0.9×: ${rr / nr >= 0.9 ? 'met' : 'missed'}`],
  row(KEEP ? 'nginx with keep-alive (reference)' : '(context) nginx with keep-alive', K),
];
if (KEEP) {
  const rk = median(RK.map((x) => x.rps));
  rows.push(row('recite with keep-alive', RK), ['recite / nginx, keep-alive', fmt(rk / kr, 3) + '×', '', '', `goal ≥ 0.9×: ${rk / kr >= 0.9 ? 'met' : 'missed'}`]);
} else {
  rows.push(['recite with keep-alive', 'not built', '', '', `libwebsockets ${lws} < 4.3: every response closes`]);
}
table('GET /v1/audio/{hash}', ['server', 'requests/s', 'latency p50 ms', 'latency p99 ms', 'per-round requests/s'], rows);
table(`synthesize → cached status, ${CLIENTS} WebSocket clients at once, ${SECONDS} s closed loop`, ['requests', 'statuses/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'server RSS MiB'], [
  [String(lat.length), fmt(lat.length / elapsed, 0), fmt(median(lat), 2), fmt(pct(lat, 90), 2), fmt(pct(lat, 99), 2), fmt(lat.reduce((a, b) => Math.max(a, b), 0), 1), fmt(rssServer, 1)],
]);
