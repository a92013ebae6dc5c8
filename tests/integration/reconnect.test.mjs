// Reconnect (SPEC sections 4-5): a reader whose connection drops mid-synthesis reconnects
// and re-sends `synthesize`; each block's answer is its current state, so a block that
// finished while nobody was connected comes back `cached` at once, and nothing is lost.
import assert from 'node:assert/strict';
import { itest, synth, range, paragraphs, sleep, HANG_MS } from './harness.mjs';

async function waitMetric(s, name, pred, what) {
  const deadline = Date.now() + HANG_MS;
  for (;;) {
    const m = await s.metrics();
    if (pred(m[name])) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${name} = ${m[name]})`);
    await sleep(25);
  }
}

itest('a connection dropped mid-synthesis, reopened, gets every block', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(paragraphs(12));
  const blocks = range(0, 12);

  const c1 = await h.ws(s);
  c1.send(synth(d.id, blocks));
  const running = await c1.waitFor((m) => m.type === 'status' && m.status === 'processing',
    HANG_MS, 0, 'a block being synthesized');
  c1.close();   // gone while a worker runs `running.block_idx` and the rest wait

  // the job that was running finishes and is stored although its reader has gone
  await waitMetric(s, 'recite_syntheses_total', (v) => v >= 1, 'the running job to finish');
  await waitMetric(s, 'recite_jobs_running', (v) => v === 0, 'the worker to go idle');
  await waitMetric(s, 'recite_ws_connections', (v) => v === 0, 'the dropped connection to be noticed');

  const c2 = await h.ws(s);
  c2.send(synth(d.id, blocks));
  const hist = await c2.waitFinal(d.id, blocks, { timeoutMs: 60_000 });
  assert.equal(hist.get(running.block_idx)[0].status, 'cached',
    `block ${running.block_idx} finished while disconnected, so it is cached at once`);
  for (const i of blocks) {
    const last = hist.get(i).at(-1);
    assert.equal(last.status, 'cached', `block ${i}`);
    assert.equal((await s.get(last.audio_url)).status, 200, `block ${i} audio`);
  }
  const m = await s.metrics();
  assert.equal(m.recite_syntheses_total, 12, 'each block synthesized exactly once');
});

itest('reconnecting while blocks are still being synthesized joins them', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(paragraphs(10));
  const blocks = range(0, 10);
  const c1 = await h.ws(s);
  c1.send(synth(d.id, blocks));
  await c1.waitFor((m) => m.status === 'cached', HANG_MS, 0, 'a first cached block');
  const seen = new Map(c1.statuses(d.id).filter((m) => m.status === 'cached').map((m) => [m.block_idx, m.audio_url]));
  c1.close();

  // reconnect at once, possibly a few times, as a browser with backoff would
  for (let attempt = 0; attempt < 3; attempt++) {
    const c = await h.ws(s);
    c.send(synth(d.id, blocks));
    if (attempt < 2) {
      await c.waitFor((m) => m.type === 'status' && m.block_idx === 9, HANG_MS, 0, 'answers for every block');
      c.close();
      continue;
    }
    const hist = await c.waitFinal(d.id, blocks, { timeoutMs: 60_000 });
    for (const i of blocks) assert.equal(hist.get(i).at(-1).status, 'cached', `block ${i}`);
    for (const [i, url] of seen) {
      assert.deepEqual(hist.get(i).map((m) => m.status), ['cached'], `block ${i} was done before the drop`);
      assert.equal(hist.get(i)[0].audio_url, url);
    }
  }
  const m = await s.metrics();
  assert.equal(m.recite_syntheses_total, 10, 'no block synthesized twice across reconnects');
});
