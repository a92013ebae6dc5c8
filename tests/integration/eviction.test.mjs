// Eviction (SPEC section 4): a reader who jumps ahead, or switches voice, must not leave
// the worker busy with blocks nobody will hear. `cursor_moved` drops this connection's
// *queued* jobs outside [cursor-8, cursor+16] and says exactly which in `evicted`; jobs a
// worker has started finish; evicted blocks never turn up later; shared jobs survive for
// the other requesters. With --workers 1 most of a 64-block prefetch is still queued when
// the cursor moves, so the expected set is large and computed from the statuses seen.
import assert from 'node:assert/strict';
import { itest, synth, range, paragraphs, compact } from './harness.mjs';

const FINAL = new Set(['cached', 'skipped', 'error']);

/** Latest status per index (for one voice) among messages [0, end). */
function latestBefore(c, docId, end, voice = 'en-us') {
  const out = new Map();
  for (const m of c.messages.slice(0, end))
    if (m.type === 'status' && m.document_id === docId && m.voice === voice) out.set(m.block_idx, m.status);
  return out;
}

/**
 * The contract, from the client's point of view, for one `evicted` message at position pos:
 * every evicted index was (as far as the client knew) queued and outside the window; an index
 * the client saw queued outside the window but that was not evicted was in fact running
 * (at most `workers` of them), so it goes on to be cached; no evicted index hears anything
 * more on this connection.
 */
async function checkEviction(c, docId, pos, { requested, inWindow, voice = 'en-us', workers = 1 }) {
  const ev = c.messages[pos];
  const E = new Set(ev.block_indices);
  assert.equal(E.size, ev.block_indices.length, 'no index listed twice');
  const latest = latestBefore(c, docId, pos, voice);
  const Q = new Set(requested.filter((i) => !inWindow(i) && latest.get(i) === 'queued'));
  for (const i of E) {
    assert.ok(!inWindow(i), `evicted ${i} lies inside the window`);
    assert.ok(requested.includes(i), `evicted ${i} was never requested`);
    assert.equal(latest.get(i), 'queued', `evicted ${i} whose latest status was ${latest.get(i)}`);
  }
  const running = [...Q].filter((i) => !E.has(i));
  assert.ok(running.length <= workers,
    `queued outside the window but not evicted: ${compact(running)} (only ${workers} can be running)`);
  for (const i of running) {
    // its next status may still be on the wire when `evicted` is handled: wait for it
    const later = await c.waitFor((m) => m.type === 'status' && m.block_idx === i && m.voice === voice,
      20_000, pos + 1, `the next status of block ${i}`);
    assert.ok(['processing', 'cached'].includes(later.status),
      `block ${i} was not evicted, so it must have been running; next status ${later?.status}`);
  }
  return { E, running };
}

function assertSilentAfter(c, docId, pos, E, voice = 'en-us') {
  const late = c.messages.slice(pos + 1).filter((m) =>
    m.type === 'status' && m.document_id === docId && m.voice === voice && E.has(m.block_idx));
  assert.deepEqual(late.map((m) => `${m.block_idx}:${m.status}`), [], 'evicted blocks reported after eviction');
}

itest('cursor_moved evicts exactly the queued blocks outside [cursor-8, cursor+16]', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(paragraphs(120));
  assert.equal(d.block_count, 120);
  const c = await h.ws(s);
  const requested = range(0, 64);
  c.send(synth(d.id, range(0, 32), { cursor: 0 }));
  c.send(synth(d.id, range(32, 64), { cursor: 32 }));
  c.send({ type: 'cursor_moved', document_id: d.id, cursor: 60 });
  const ev = await c.waitFor((m) => m.type === 'evicted', 20_000, 0, 'the evicted message');
  const pos = c.messages.indexOf(ev);
  assert.equal(ev.document_id, d.id);
  assert.equal(ev.model, 'espeak');
  assert.equal(ev.voice, 'en-us');

  const inWindow = (i) => i >= 52 && i <= 76;
  const { E } = await checkEviction(c, d.id, pos, { requested, inWindow });
  assert.ok(E.size >= 30, `most of the prefetch was still queued: evicted ${compact(E)}`);

  const kept = requested.filter((i) => !E.has(i));
  const hist = await c.waitFinal(d.id, kept, { timeoutMs: 60_000 });
  for (const i of kept) assert.equal(hist.get(i).at(-1).status, 'cached', `block ${i}`);
  for (const i of range(52, 64)) assert.ok(!E.has(i), `block ${i} is in the window`);
  assertSilentAfter(c, d.id, pos, E);
  assert.equal(c.messages.filter((m) => m.type === 'evicted').length, 1, 'one evicted message');

  const m = await s.metrics();
  assert.equal(m.recite_syntheses_total, kept.length, 'evicted blocks were never synthesized');
  assert.equal(m.recite_evictions_total, E.size);
  assert.equal(m.recite_jobs_queued, 0);
  assert.equal(m.recite_jobs_running, 0);
});

itest('a voice switch evicts the old voice\'s queued blocks', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const models = (await s.get('/v1/models')).json;
  const voices = models.find((m) => m.slug === 'espeak').voices.map((v) => v.slug);
  const other = ['de', 'fr-fr', 'fr', 'es'].find((v) => voices.includes(v));
  assert.ok(other, 'espeak has another voice than en-us');

  const d = await s.createDoc(paragraphs(40));
  const c = await h.ws(s);
  const requested = range(0, 32);
  c.send(synth(d.id, requested, { cursor: 0 }));
  c.send(synth(d.id, range(0, 8), { cursor: 0, voice: other }));
  const ev = await c.waitFor((m) => m.type === 'evicted', 20_000, 0, 'the evicted message');
  const pos = c.messages.indexOf(ev);
  assert.equal(ev.model, 'espeak');
  assert.equal(ev.voice, 'en-us', 'the evicted message names the old voice');
  assert.equal(ev.document_id, d.id);

  const { E } = await checkEviction(c, d.id, pos, { requested, inWindow: () => false });
  assert.ok(E.size >= 20, `most en-us blocks were still queued: evicted ${compact(E)}`);
  // (the new voice's statuses may still be on the wire when `evicted` is handled: wait)
  const firstNewMsg = await c.waitFor((m) => m.type === 'status' && m.voice === other, 20_000, 0,
    'a status for the new voice');
  assert.ok(c.messages.indexOf(firstNewMsg) > pos, 'the evicted message comes before the new voice\'s statuses');

  const hNew = await c.waitFinal(d.id, range(0, 8), { voice: other });
  for (const [i, list] of hNew) {
    assert.equal(list.at(-1).status, 'cached', `${other} block ${i}`);
    assert.equal(list.at(-1).model, 'espeak');
  }
  const keptOld = requested.filter((i) => !E.has(i));
  const hOld = await c.waitFinal(d.id, keptOld, { voice: 'en-us' });
  for (const i of keptOld) assert.equal(hOld.get(i).at(-1).status, 'cached', `en-us block ${i}`);
  assertSilentAfter(c, d.id, pos, E, 'en-us');

  const m = await s.metrics();
  assert.equal(m.recite_syntheses_total, keptOld.length + 8, 'no worker time on the old voice\'s evicted blocks');
  assert.equal(m.recite_jobs_queued, 0);
});

itest('the window\'s edges are kept: cursor_moved inside it evicts nothing and says nothing', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(paragraphs(40));
  const c = await h.ws(s);
  // asked from the middle out: the idle worker takes the first index at once, the edges wait
  const middleOut = range(0, 25).sort((a, b) => Math.abs(a - 12) - Math.abs(b - 12));
  c.send(synth(d.id, middleOut, { cursor: 12 }));
  c.send({ type: 'cursor_moved', document_id: d.id, cursor: 8 });   // window [0, 24]: all of it
  await c.barrier();
  assert.deepEqual(c.messages.filter((m) => m.type === 'evicted'), [], 'blocks 0 and 24 are inside [0, 24]');
  assert.equal(latestBefore(c, d.id, c.mark()).get(0), 'queued', 'block 0 still waits (nearest first)');

  c.send({ type: 'cursor_moved', document_id: d.id, cursor: 9 });   // window [1, 25]: block 0 leaves
  const ev = await c.waitFor((m) => m.type === 'evicted', 20_000, 0, 'the evicted message');
  assert.deepEqual(ev.block_indices, [0]);

  // a connection with nothing queued for the document gets no reply either
  const other = await h.ws(s);
  other.send({ type: 'cursor_moved', document_id: d.id, cursor: 30 });
  await other.barrier();
  assert.deepEqual(other.messages.filter((m) => m.type !== 'error'), []);
  assert.equal((await s.metrics()).recite_evictions_total, 1);
});

itest('a job another connection still wants is not dropped by one reader\'s eviction', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(paragraphs(120));
  const [c1, c2] = [await h.ws(s), await h.ws(s)];
  const requested = range(0, 20);
  c1.send(synth(d.id, requested, { cursor: 0 }));
  c2.send(synth(d.id, requested, { cursor: 0 }));
  await c2.waitFor((m) => m.type === 'status' && m.block_idx === 19, 20_000, 0, 'c2 statuses');
  c1.send({ type: 'cursor_moved', document_id: d.id, cursor: 100 });   // window [92, 116]
  const ev = await c1.waitFor((m) => m.type === 'evicted', 20_000, 0, 'the evicted message');
  const pos = c1.messages.indexOf(ev);
  const { E } = await checkEviction(c1, d.id, pos, { requested, inWindow: () => false });
  assert.ok(E.size >= 12, `c1's queued blocks were evicted: ${compact(E)}`);

  const h2 = await c2.waitFinal(d.id, requested, { timeoutMs: 60_000 });
  for (const i of requested) assert.equal(h2.get(i).at(-1).status, 'cached', `c2 block ${i}`);
  assert.deepEqual(c2.messages.filter((m) => m.type === 'evicted'), [], 'c2 lost nothing');
  await c1.barrier();
  assertSilentAfter(c1, d.id, pos, E);
  assert.equal((await s.metrics()).recite_syntheses_total, 20, 'still one synthesis per block');
});
