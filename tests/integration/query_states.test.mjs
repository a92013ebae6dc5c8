// query_states (an addition to SPEC §4, src/server/protocol.h): a page opened again asks
// what the server already has for the blocks it shows, and nothing is synthesized for it.
import assert from 'node:assert/strict';
import { itest, synth, paragraphs, range } from './harness.mjs';

const query = (document_id, block_indices, extra = {}) => ({
  type: 'query_states', document_id, block_indices, model: 'espeak', voice: 'en-us', ...extra,
});

itest('query_states answers cached and skipped blocks, and queues nothing', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(paragraphs(6));
  const first = await h.ws(s);
  first.send(synth(d.id, [0, 2]));
  const made = await first.waitFinal(d.id, [0, 2]);
  first.close();

  // a reload: a new connection asks about the window, out of range included
  const c = await h.ws(s);
  c.send(query(d.id, [0, 1, 2, 3, 99]));
  await c.barrier();
  const st = c.statuses(d.id);
  const byIdx = Object.fromEntries(st.map((m) => [m.block_idx, m]));
  assert.deepEqual(st.map((m) => m.block_idx).sort((a, b) => a - b), [0, 2, 99], JSON.stringify(st));
  for (const i of [0, 2]) {
    assert.equal(byIdx[i].status, 'cached');
    assert.equal(byIdx[i].audio_url, made.get(i).at(-1).audio_url);
    assert.equal(byIdx[i].duration_ms, made.get(i).at(-1).duration_ms);
    assert.equal(byIdx[i].voice, 'en-us');
  }
  assert.equal(byIdx[99].status, 'skipped');
  // nothing was queued for blocks 1 and 3: no status, no job
  const metrics = await s.metrics();
  assert.equal(metrics.recite_jobs_queued ?? 0, 0);
  await c.barrier();
  assert.equal(c.statuses(d.id).filter((m) => m.block_idx === 1 || m.block_idx === 3).length, 0);

  // bad requests are error messages and the connection stays usable
  const from = c.mark();
  c.send(query(d.id, range(0, 65)));
  const err = await c.waitFor((m) => m.type === 'error', undefined, from);
  assert.match(err.error, /at most 64 block indices per query_states/);
  c.send(query(d.id, [0], { voice: 'no-such-voice' }));
  await c.waitFor((m) => m.type === 'error' && /unknown voice/.test(m.error), undefined, from);
  c.send(query(d.id, [0]));
  await c.waitFor((m) => m.type === 'status' && m.block_idx === 0, undefined, from);
});
