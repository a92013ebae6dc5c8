// Distributed mode under faults: a worker killed mid-job (visibility timeout, the job runs on
// another worker), a slow original and its retry both finishing (stored and counted once),
// a job failing three times (dead-letter list, recoverable error), Redis killed and
// restarted mid-run (everything requested is eventually cached or reported), and a server
// started while Redis is down. Fault injection: RECITE_WORKER_DELAY_MS (a slow worker) and
// RECITE_WORKER_FAIL=1 (every try fails), read by `recite worker`.
import assert from 'node:assert/strict';
import { synth, range, paragraphs, freePort } from './harness.mjs';
import { rtest, eventually, countedJobs, Redis, Worker, sleep } from './redis_harness.mjs';

const LONG = 240_000;
const VIS = ['--visibility-timeout', '1'];

function finalOf(hist, i) { return hist.get(i).at(-1); }

rtest('kill -9 of a worker mid-job: the job completes on another worker', async (t, h, r) => {
  const redis = await r.redis();
  const s = await r.server(redis, { args: VIS });
  const d = await s.createDoc(paragraphs(3));
  const stuck = await r.worker(redis, { env: { RECITE_WORKER_DELAY_MS: '600000' } });
  const c = await h.ws(s);
  c.send(synth(d.id, [0]));
  await c.waitFor((m) => m.type === 'status' && m.block_idx === 0 && m.status === 'processing',
    undefined, 0, 'the stuck worker to claim block 0');
  await stuck.kill();
  const healthy = await r.worker(redis);
  const hist = await c.waitFinal(d.id, [0], { timeoutMs: LONG });
  assert.equal(finalOf(hist, 0).status, 'cached');
  // (a worker counts a job just after pushing its result: the count may lag `cached`)
  assert.equal(await countedJobs([healthy], 1), 1);
  assert.equal(await stuck.jobs(), 0);
  const m = await s.metrics();
  assert.equal(m.recite_syntheses_total, 1);
  assert.equal(m.recite_jobs_done_total, 1);
  assert.equal(m.recite_jobs_failed_total, 0);
});

rtest('a slow original and its retry both finish: stored once, counted once', async (t, h, r) => {
  const redis = await r.redis();
  const s = await r.server(redis, { args: VIS });
  const d = await s.createDoc(paragraphs(3));
  const slow = await r.worker(redis, { env: { RECITE_WORKER_DELAY_MS: '4000' } });
  const c = await h.ws(s);
  c.send(synth(d.id, [1]));
  await c.waitFor((m) => m.type === 'status' && m.block_idx === 1 && m.status === 'processing',
    undefined, 0, 'the slow worker to claim block 1');
  const fast = await r.worker(redis);
  const hist = await c.waitFinal(d.id, [1], { timeoutMs: LONG });
  assert.equal(finalOf(hist, 1).status, 'cached');
  // the original still delivers its (identical) result later
  await eventually(async () => (await slow.jobs()) === 1, 'the slow original to deliver', LONG);
  await eventually(async () => (await redis.cli('LLEN', 'recite:events'))[0] === '0', 'the server to read it');
  await c.barrier();
  assert.equal(await countedJobs([fast], 1), 1, 'the retry ran on the other worker');
  const m = await s.metrics();
  assert.equal(m.recite_syntheses_total, 1, 'one synthesis accounted for the variant');
  assert.equal(m.recite_jobs_done_total, 1);
  const cached = c.statuses(d.id).filter((x) => x.block_idx === 1 && x.status === 'cached');
  assert.equal(cached.length, 1, 'one cached status');
});

rtest('three failed tries: a recoverable error and an entry in recite:dead', async (t, h, r) => {
  const redis = await r.redis();
  const s = await r.server(redis);
  const d = await s.createDoc(paragraphs(3));
  const bad = await r.worker(redis, { env: { RECITE_WORKER_FAIL: '1' } });
  const c = await h.ws(s);
  c.send(synth(d.id, [2]));
  const hist = await c.waitFinal(d.id, [2], { timeoutMs: LONG });
  const last = finalOf(hist, 2);
  assert.equal(last.status, 'error');
  assert.equal(last.recoverable, true);
  assert.match(last.error, /injected failure/);
  assert.equal(hist.get(2).filter((x) => x.status === 'processing').length, 3, 'three tries');
  // (a worker counts a try just after pushing its result: the count may lag the `error`)
  assert.equal(await countedJobs([bad], 3), 3);
  const dead = await eventually(async () => {
    const l = await redis.cli('LRANGE', 'recite:dead', 0, -1);
    return l[0] ? l : null;
  }, 'the dead-letter entry');
  assert.equal(dead.length, 1);
  const entry = JSON.parse(dead[0]);
  assert.equal(entry.tries, 3);
  assert.equal(entry.model, 'espeak');
  assert.match(entry.hash, /^[0-9a-f]{64}$/);
  assert.match(entry.error, /injected failure/);
  assert.equal((await s.metrics()).recite_jobs_failed_total, 1);

  // recoverable: with a healthy worker, asking again works
  await bad.stop();
  await r.worker(redis);
  const from = c.mark();
  c.send(synth(d.id, [2]));
  const again = await c.waitFinal(d.id, [2], { from, timeoutMs: LONG });
  assert.equal(finalOf(again, 2).status, 'cached');
});

rtest('Redis restarted mid-run: everything requested is eventually cached or reported', async (t, h, r) => {
  const redis = await r.redis();
  const s = await r.server(redis, { args: ['--visibility-timeout', '5'] });
  const w1 = await r.worker(redis);
  const w2 = await r.worker(redis);
  // more blocks than the loop below can ask for (64 + 400) plus the 10 asked at the end:
  // however long the server takes to notice the outage, every index asked for exists
  const d = await s.createDoc(paragraphs(480));
  const c = await h.ws(s);
  const requested = range(0, 64);
  c.send(synth(d.id, requested.slice(0, 32), { cursor: 0 }));
  c.send(synth(d.id, requested.slice(32), { cursor: 0 }));
  await c.waitUntil(() => c.statuses(d.id).filter((m) => m.status === 'cached').length >= 5,
    LONG, 'some blocks cached before the crash');
  await redis.kill();

  // While Redis is down, a new request is answered at once with a recoverable error (the
  // server may take a moment to notice: keep asking for one more block until it says so).
  let next = 64;
  const refused = () => c.statuses(d.id).find((m) => m.block_idx >= 64 && m.status === 'error');
  for (let n = 0; !refused() && n < 400; n++) {
    requested.push(next);
    c.send(synth(d.id, [next++], { cursor: 0 }));
    await sleep(50);
  }
  const e = refused();
  assert.ok(e, 'a request made while Redis is down gets an error status');
  assert.equal(e.recoverable, true);

  await redis.start(redis.port);   // an empty Redis: every key was lost
  const hist = await c.waitFinal(d.id, requested, { timeoutMs: LONG });
  const errored = requested.filter((i) => finalOf(hist, i).status !== 'cached');
  for (const i of errored) {
    assert.equal(finalOf(hist, i).status, 'error', `block ${i}`);
    assert.equal(finalOf(hist, i).recoverable, true, `block ${i}`);
  }
  // the client retries what failed (as the page does) and now everything is cached
  const from = c.mark();
  for (let i = 0; i < errored.length; i += 32) c.send(synth(d.id, errored.slice(i, i + 32), { cursor: 0 }));
  const again = await c.waitFinal(d.id, errored, { from, timeoutMs: LONG });
  for (const i of errored) assert.equal(finalOf(again, i).status, 'cached', `block ${i} on retry`);
  // and the workers, which reconnected on their own, keep working (on blocks never asked for)
  const from2 = c.mark();
  const fresh = range(next, next + 10);
  c.send(synth(d.id, fresh, { cursor: next }));
  const more = await c.waitFinal(d.id, fresh, { from: from2, timeoutMs: LONG });
  for (const i of fresh) assert.equal(finalOf(more, i).status, 'cached');
  assert.ok(await w1.jobs() + await w2.jobs() > 0);
  if (process.env.RECITE_TEST_SHOW_LOGS) process.stderr.write(s.log);
  const m = await s.metrics();
  assert.equal(m.recite_jobs_queued, 0);
  assert.equal(m.recite_jobs_running, 0);
});

rtest('Redis gone longer than the visibility timeout: waiting jobs are reported, not left hanging', async (t, h, r) => {
  const redis = await r.redis();
  const s = await r.server(redis, { args: VIS });   // no workers: every job waits
  const d = await s.createDoc(paragraphs(6));
  const c = await h.ws(s);
  c.send(synth(d.id, range(0, 6)));
  await c.barrier();
  await redis.kill();
  const hist = await c.waitFinal(d.id, range(0, 6), { timeoutMs: LONG });
  for (const i of range(0, 6)) {
    const last = finalOf(hist, i);
    assert.equal(last.status, 'error', `block ${i}`);
    assert.equal(last.recoverable, true);
    assert.match(last.error, /Redis/);
  }
  const m = await s.metrics();
  assert.equal(m.recite_jobs_queued, 0);
});

rtest('a server started while Redis is down reports errors, then works once Redis is up', async (t, h, r) => {
  const dir = await h.tmp();
  const redis = new Redis(dir);
  redis.port = await freePort();            // nothing listens there yet
  const s = await r.server(redis);
  const d = await s.createDoc(paragraphs(4));
  const c = await h.ws(s);
  c.send(synth(d.id, [0]));
  const hist = await c.waitFinal(d.id, [0]);
  assert.equal(finalOf(hist, 0).status, 'error');
  assert.equal(finalOf(hist, 0).recoverable, true);
  await redis.start(redis.port);
  try {
    const w = await new Worker(redis, {}).start();
    try {
      // the server reconnects on its own (backoff): ask until the block is accepted
      let from;
      for (let n = 0; n < 400; n++) {
        from = c.mark();
        c.send(synth(d.id, [0]));
        const st = await c.waitFor((m) => m.type === 'status' && m.block_idx === 0, undefined, from);
        if (st.status !== 'error') break;
        await sleep(100);
      }
      const done = await c.waitFinal(d.id, [0], { from, timeoutMs: LONG });
      assert.equal(finalOf(done, 0).status, 'cached');
    } finally {
      await w.stop();
    }
  } finally {
    await redis.stop();
  }
});
