// Distributed-mode test helpers on top of harness.mjs: a real `redis-server` on a free
// loopback port (no persistence, its own temp dir) and `recite worker` processes, each
// started per test and stopped by PID. `rtest()` is `itest()` plus these resources: at the
// end workers get SIGTERM, then the servers, then Redis; on failure every log is printed.
// Every wait is a hang guard (HANG_MS or a test's own bound), never a performance threshold.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { itest, freePort, run, sleep, BIN, HANG_MS, eventually } from './harness.mjs';

export { eventually };

export { sleep, HANG_MS };

/** Waits for a line matching re on a child's stdout, or its exit. */
function waitLine(proc, re, what) {
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`${what}: no line matching ${re} within ${HANG_MS} ms`)), HANG_MS);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      out += d;
      if (re.test(out)) {
        clearTimeout(timer);
        res();
      }
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      rej(new Error(`${what} exited (code ${code}, signal ${signal}) before it was ready`));
    });
  });
}

function exitPromise(proc) {
  return new Promise((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) r({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => r({ code, signal }));
  });
}

async function stopProc(proc, signal, timeoutMs = HANG_MS) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return { code: proc?.exitCode, signal: proc?.signalCode };
  const done = exitPromise(proc);
  proc.kill(signal);
  let timer;
  const e = await Promise.race([done, new Promise((r) => { timer = setTimeout(() => r(null), timeoutMs); })]);
  clearTimeout(timer);
  if (!e) {
    proc.kill('SIGKILL');
    await done;
    throw new Error(`pid ${proc.pid} did not exit within ${timeoutMs} ms of ${signal}`);
  }
  return e;
}

export class Redis {
  constructor(dir) { this.dir = dir; this.log = ''; this.proc = null; }

  get url() { return `redis://127.0.0.1:${this.port}/0`; }

  async _spawn(port) {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--dir', this.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.log += `--- redis-server --port ${port} (pid ${proc.pid}) ---\n`;
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => { this.log += d; });
    const ready = waitLine(proc, /Ready to accept connections/, 'redis-server');
    proc.stdout.on('data', (d) => { this.log += d; });
    return ready;
  }

  /** Starts on a free port, or on `port` (a restart keeps the port). */
  async start(port) {
    if (port) {
      await this._spawn(port);
      this.port = port;
      return this;
    }
    let last;
    for (let i = 0; i < 3; i++) {
      const p = await freePort();
      try {
        await this._spawn(p);
        this.port = p;
        return this;
      } catch (e) { last = e; }
    }
    throw last;
  }

  /** SIGKILL: Redis vanishes without a goodbye, losing everything (no persistence). */
  kill() { return stopProc(this.proc, 'SIGKILL'); }
  stop() { return stopProc(this.proc, 'SIGTERM'); }
  async restart() {
    await this.kill();
    return this.start(this.port);
  }

  /** redis-cli; returns the trimmed output lines. */
  async cli(...args) {
    const r = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...args.map(String)]);
    if (r.code !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.replace(/\n$/, '').split('\n');
  }

  /** HGETALL as an object. */
  async hgetall(key) {
    const l = await this.cli('HGETALL', key);
    const o = {};
    for (let i = 0; i + 1 < l.length; i += 2) o[l[i]] = l[i + 1];
    return o;
  }
}

export class Worker {
  constructor(redis, opts) { this.redis = redis; this.opts = opts; this.log = ''; }

  /** Starts `recite worker` and waits for its ready line. */
  async start() {
    const { workers = 1, env = {} } = this.opts;
    const args = ['worker', '--redis', this.redis.url, '--workers', String(workers)];
    const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.proc = proc;
    this.pid = proc.pid;
    this.log += `--- recite ${args.join(' ')} ${JSON.stringify(env)} (pid ${proc.pid}) ---\n`;
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => { this.log += d; });
    this.exited = exitPromise(proc);
    await waitLine(proc, /recite worker ready: /, `recite worker (pid ${proc.pid})`);
    return this;
  }

  stop(signal = 'SIGTERM') { return stopProc(this.proc, signal); }
  kill() { return stopProc(this.proc, 'SIGKILL'); }

  /** Results this process delivered, from recite:worker_jobs (ids are host:pid:thread). */
  async jobs() {
    const all = await this.redis.hgetall('recite:worker_jobs');
    let n = 0;
    for (const [id, v] of Object.entries(all))
      if (id.startsWith(`${hostname()}:${this.pid}:`)) n += Number(v);
    return n;
  }
}

/**
 * Waits until the jobs that `workers` counted in recite:worker_jobs reach n, and returns
 * their total. A worker counts a job only after it has pushed the result, so the count can
 * lag the `cached`/`error` status that result produced. The caller asserts the exact total:
 * a count past n still fails.
 */
export async function countedJobs(workers, n, timeoutMs = HANG_MS) {
  let total = 0;
  await eventually(async () => {
    total = 0;
    for (const w of workers) total += await w.jobs();
    return total >= n;
  }, `${n} job(s) counted in recite:worker_jobs`, timeoutMs);
  return total;
}

/**
 * itest() with distributed-mode resources: r.redis() starts a Redis, r.worker(redis, opts)
 * a worker process, r.server(redis, {workers, args}) a `recite serve --redis` (workers 0
 * unless given). Teardown: workers (SIGTERM, exit 0 expected unless killed on purpose),
 * servers, then Redis.
 */
export function rtest(name, options, fn) {
  if (typeof options === 'function') { fn = options; options = {}; }
  itest(name, { timeout: 300_000, ...options }, async (t, h) => {
    const redises = [], workers = [], servers = [];
    const r = {
      async redis() {
        const dir = await h.tmp();
        const x = new Redis(dir);
        redises.push(x);
        return x.start();
      },
      async worker(redis, opts = {}) {
        const w = new Worker(redis, opts);
        workers.push(w);
        return w.start();
      },
      async server(redis, { workers: n = 0, args = [] } = {}) {
        const s = await h.start({ workers: n, args: ['--redis', redis.url, ...args] });
        servers.push(s);
        return s;
      },
    };
    let failed = null;
    try {
      await fn(t, h, r);
    } catch (e) {
      failed = e;
    }
    for (const w of workers) {
      try {
        const killed = w.proc.signalCode === 'SIGKILL';
        const e = await w.stop('SIGTERM');
        if (!failed && !killed && e.code !== 0) failed = new Error(`worker ${w.pid} exited with ${e.code}/${e.signal}`);
      } catch (e) { failed ??= e; }
    }
    for (const s of servers) {
      try {
        s.checkAlive();
        const e = await s.stop('SIGTERM');
        if (!failed && e && e.code !== 0) failed = new Error(`server exited with ${e.code}/${e.signal}`);
      } catch (e) { failed ??= e; }
    }
    for (const x of redises) await x.stop().catch(() => {});
    if (failed) {
      for (const w of workers) process.stderr.write(`\n===== worker log (${name}) =====\n${w.log}\n`);
      for (const x of redises) process.stderr.write(`\n===== redis log (${name}) =====\n${x.log.slice(-4000)}\n`);
      throw failed;
    }
  });
}
