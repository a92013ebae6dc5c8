// Distributed mode (SPEC section 8): `recite serve --redis URL --workers 0` with `recite
// worker` processes pulling from a real redis-server. Work sharing, cross-process dedup,
// eviction (window and voice switch) of jobs already handed to Redis, in-process Redis
// workers, command-line errors. Faults (kill -9, retries, dead letters, Redis restarts) are
// in redis_faults.test.mjs.
import assert from 'node:assert/strict';
import { synth, range, paragraphs, run, BIN } from './harness.mjs';
import { rtest, eventually, countedJobs } from './redis_harness.mjs';

const LONG = 240_000;   // hang guard for whole-document runs (sanitizer builds are slow)

/** Sends synthesize for indices in batches of 32 (the protocol limit). */
function requestAll(c, docId, indices, extra = {}) {
  for (let i = 0; i < indices.length; i += 32)
    c.send(synth(docId, indices.slice(i, i + 32), { cursor: indices[i], ...extra }));
}

function finalOf(hist, i) { return hist.get(i).at(-1); }

rtest('two worker processes synthesize a 200-block document and both take a share', async (t, h, r) => {
  const redis = await r.redis();
  const s = await r.server(redis);
  const w1 = await r.worker(redis);
  const w2 = await r.worker(redis);
  const d = await s.createDoc(paragraphs(200));
  assert.equal(d.block_count, 200);
  const c = await h.ws(s);
  const all = range(0, 200);
  requestAll(c, d.id, all);
  const hist = await c.waitFinal(d.id, all, { timeoutMs: LONG });
  for (const i of all) {
    const last = finalOf(hist, i);
    assert.equal(last.status, 'cached', `block ${i}: ${JSON.stringify(last)}`);
    assert.match(last.audio_url, /^\/v1\/audio\/[0-9a-f]{64}$/);
    assert.ok(last.duration_ms > 0);
    assert.ok(Array.isArray(last.word_timings) && last.word_timings.length > 0, `block ${i} has word timings`);
  }
  // the audio travelled back through Redis and the server stored it
  for (const i of [0, 99, 199]) {
    const a = await s.get(finalOf(hist, i).audio_url);
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('content-type'), 'audio/ogg');
    assert.equal(a.body.subarray(0, 4).toString('latin1'), 'OggS');
    assert.equal(Number(a.headers.get('x-duration-ms')), finalOf(hist, i).duration_ms);
  }
  // (a worker counts a job just after pushing its result: the last counts may lag `cached`)
  await countedJobs([w1, w2], 200);
  const n1 = await w1.jobs(), n2 = await w2.jobs();
  assert.equal(n1 + n2, 200, `every block synthesized exactly once (${n1} + ${n2})`);
  assert.ok(n1 > 0 && n2 > 0, `both workers took a share (${n1} and ${n2})`);
  const m = await s.metrics();
  assert.equal(m.recite_syntheses_total, 200);
  assert.equal(m.recite_jobs_done_total, 200);
  assert.equal(m.recite_jobs_queued, 0);
  assert.equal(m.recite_jobs_running, 0);
  // nothing is left behind in Redis: no waiting entries, no undelivered events
  assert.deepEqual(await redis.cli('LLEN', 'recite:jobs'), ['0']);
  assert.deepEqual(await redis.cli('LLEN', 'recite:events'), ['0']);
  // every block got `processing` before `cached`
  for (const i of all) {
    const sts = hist.get(i).map((x) => x.status);
    assert.ok(sts.indexOf('processing') > 0 && sts.indexOf('processing') < sts.indexOf('cached'),
      `block ${i}: ${sts.join(' -> ')}`);
  }
});

rtest('dedup across two connections: one synthesis per variant', async (t, h, r) => {
  const redis = await r.redis();
  const s = await r.server(redis);
  const d = await s.createDoc(paragraphs(32));
  const a = await h.ws(s);
  const b = await h.ws(s);
  // both ask before any worker exists, so every job is still queued or handed off
  a.send(synth(d.id, range(0, 32), { cursor: 0 }));
  b.send(synth(d.id, range(0, 32), { cursor: 16 }));
  await a.barrier();
  await b.barrier();
  const w1 = await r.worker(redis);
  const w2 = await r.worker(redis);
  const ha = await a.waitFinal(d.id, range(0, 32), { timeoutMs: LONG });
  const hb = await b.waitFinal(d.id, range(0, 32), { timeoutMs: LONG });
  for (const i of range(0, 32)) {
    assert.equal(finalOf(ha, i).status, 'cached');
    assert.equal(finalOf(hb, i).status, 'cached');
    assert.equal(finalOf(ha, i).audio_url, finalOf(hb, i).audio_url);
  }
  // (a worker counts a job just after pushing its result: the count may lag `cached`)
  assert.equal(await countedJobs([w1, w2], 32), 32, 'each variant synthesized once');
  assert.equal((await s.metrics()).recite_syntheses_total, 32);

  // a third connection asking now gets everything cached at once, nothing new runs
  const c = await h.ws(s);
  c.send(synth(d.id, range(0, 32)));
  const hc = await c.waitFinal(d.id, range(0, 32));
  for (const i of range(0, 32)) assert.deepEqual(hc.get(i).map((x) => x.status), ['cached']);
  assert.equal(await w1.jobs() + await w2.jobs(), 32);
});

rtest('cursor_moved evicts queued jobs, including those already handed to Redis', async (t, h, r) => {
  const redis = await r.redis();
  const s = await r.server(redis);
  const d = await s.createDoc(paragraphs(60));
  const c = await h.ws(s);
  c.send(synth(d.id, range(0, 32), { cursor: 0 }));
  await c.barrier();
  // with no worker yet, the server hands a small window of jobs to Redis and keeps the rest
  await eventually(async () => Number((await redis.cli('LLEN', 'recite:jobs'))[0]) > 0,
    'jobs handed off to Redis');
  const from = c.mark();
  c.send({ type: 'cursor_moved', document_id: d.id, cursor: 50 });   // window [42, 66]
  const ev = await c.waitFor((m) => m.type === 'evicted', undefined, from, 'the evicted message');
  assert.deepEqual([...ev.block_indices].sort((x, y) => x - y), range(0, 32), 'all 32 were queued');
  assert.deepEqual(await redis.cli('LLEN', 'recite:jobs'), ['0'], 'handed-off entries withdrawn');

  // a worker that starts now never synthesizes an evicted job: it only does the new block
  const w = await r.worker(redis);
  const from2 = c.mark();
  c.send(synth(d.id, [50], { cursor: 50 }));
  const hist = await c.waitFinal(d.id, [50], { from: from2 });
  assert.equal(finalOf(hist, 50).status, 'cached');
  assert.equal(await countedJobs([w], 1), 1);   // (counted just after the result is pushed)
  const late = c.messages.slice(from + 1).filter((m) => m.type === 'status' && m.block_idx < 32);
  assert.deepEqual(late, [], 'evicted blocks are never reported again');
  assert.equal((await s.metrics()).recite_syntheses_total, 1);
});

rtest('a voice switch evicts the old voice\'s queued jobs across processes', async (t, h, r) => {
  const redis = await r.redis();
  const s = await r.server(redis);
  const d = await s.createDoc(paragraphs(20));
  const c = await h.ws(s);
  c.send(synth(d.id, range(0, 10), { voice: 'en-us' }));
  await c.barrier();
  await eventually(async () => Number((await redis.cli('LLEN', 'recite:jobs'))[0]) > 0,
    'jobs handed off to Redis');
  const from = c.mark();
  c.send(synth(d.id, range(0, 4), { voice: 'de' }));
  const ev = await c.waitFor((m) => m.type === 'evicted', undefined, from, 'the evicted message');
  assert.equal(ev.voice, 'en-us');
  assert.deepEqual([...ev.block_indices].sort((x, y) => x - y), range(0, 10));
  const w = await r.worker(redis);
  const hist = await c.waitFinal(d.id, range(0, 4), { voice: 'de', from, timeoutMs: LONG });
  for (const i of range(0, 4)) assert.equal(finalOf(hist, i).status, 'cached');
  // (a worker counts a job just after pushing its result: the count may lag `cached`)
  assert.equal(await countedJobs([w], 4), 4, 'only the new voice was synthesized');
  const old = c.messages.slice(from).filter((m) => m.type === 'status' && m.voice === 'en-us');
  assert.deepEqual(old, []);
});

rtest('fair order: a second reader\'s first block is not stuck behind a long prefetch', async (t, h, r) => {
  const redis = await r.redis();
  const s = await r.server(redis);
  const d1 = await s.createDoc(paragraphs(64));
  const d2 = await s.createDoc(paragraphs(8));
  const a = await h.ws(s);
  const b = await h.ws(s);
  a.send(synth(d1.id, range(0, 32), { cursor: 0 }));
  a.send(synth(d1.id, range(32, 64), { cursor: 0 }));
  await a.barrier();
  b.send(synth(d2.id, [0], { cursor: 0 }));
  await b.barrier();
  await r.worker(redis);   // one worker: the order of its results is the order of hand-off
  await b.waitFinal(d2.id, [0], { timeoutMs: LONG });
  const cachedA = a.statuses(d1.id).filter((m) => m.status === 'cached').length;
  // reader A's block that was waiting in Redis (one per live worker) and the one running
  // when B's turn came may go first; a little slack for hand-offs made before the worker
  // was counted, but never a large part of A's 64-block prefetch
  assert.ok(cachedA <= 4, `reader B waited for ${cachedA} of reader A's blocks`);
  await a.waitFinal(d1.id, range(0, 64), { timeoutMs: LONG });
});

rtest('serve --redis with in-process workers (no separate worker process)', async (t, h, r) => {
  const redis = await r.redis();
  const s = await r.server(redis, { workers: 2 });
  const d = await s.createDoc(paragraphs(12));
  const c = await h.ws(s);
  c.send(synth(d.id, range(0, 12)));
  const hist = await c.waitFinal(d.id, range(0, 12), { timeoutMs: LONG });
  for (const i of range(0, 12)) assert.equal(finalOf(hist, i).status, 'cached');
  assert.equal((await s.metrics()).recite_syntheses_total, 12);
  // in-process workers too count a job just after pushing its result: the count may lag
  const counted = async () => Object.values(await redis.hgetall('recite:worker_jobs'))
    .reduce((x, y) => x + Number(y), 0);
  await eventually(async () => (await counted()) >= 12, '12 jobs counted in recite:worker_jobs');
  assert.equal(await counted(), 12);
});

rtest('command-line errors exit 2 with a message', async () => {
  const cases = [
    [['worker'], /--redis/],
    [['worker', '--redis', 'localhost:6379'], /redis:\/\//],
    [['worker', '--redis', 'redis://h:99999'], /port/],
    [['worker', '--redis', 'redis://127.0.0.1:1', '--workers', '0'], /at least 1/],
    [['serve', '--redis', 'http://x', '--port', '1'], /redis:\/\//],
  ];
  for (const [args, re] of cases) {
    const res = await run(BIN, args);
    assert.equal(res.code, 2, `recite ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
    assert.match(res.stderr, re, `recite ${args.join(' ')}`);
  }
});
