// Scheduling order (SPEC section 4): within a connection the block nearest the cursor runs
// first (so playback can start where the reader is), and connections are served fairly, so
// one reader's long prefetch never delays another reader's first block. One worker makes
// the order observable through the `processing` statuses.
import assert from 'node:assert/strict';
import { itest, synth, range, paragraphs } from './harness.mjs';

itest('blocks nearest the cursor are synthesized first', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(paragraphs(40));
  const c = await h.ws(s);
  c.send(synth(d.id, range(0, 21), { cursor: 10 }));
  await c.waitFinal(d.id, range(0, 21), { timeoutMs: 60_000 });
  const order = c.statuses(d.id).filter((m) => m.status === 'processing').map((m) => m.block_idx);
  assert.equal(order.length, 21);
  // the very first job may be taken while the request is still being queued; after that,
  // the distance from the cursor never decreases
  const dist = order.slice(1).map((i) => Math.abs(i - 10));
  for (let i = 1; i < dist.length; i++)
    assert.ok(dist[i] >= dist[i - 1], `processing order ${order.join(',')}`);
  assert.ok(order.indexOf(10) <= 1, `the cursor's block goes first: ${order.join(',')}`);
});

itest('another reader\'s first block does not wait for a long prefetch', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const big = await s.createDoc(paragraphs(40, 'prefetch'));
  const small = await s.createDoc('A second reader wants this one block.');
  const c1 = await h.ws(s);
  const c2 = await h.ws(s);
  c1.send(synth(big.id, range(0, 32)));
  await c1.waitFor((m) => m.status === 'cached', 20_000, 0, 'the prefetch under way');
  const mark1 = c1.mark();
  c2.send(synth(small.id, [0]));
  await c2.waitFinal(small.id, [0]);
  // by the time reader 2 has its block, reader 1 has started at most the block that was
  // running when reader 2 asked, plus the one after it in the round
  const started = c1.statuses(big.id, mark1).filter((m) => m.status === 'processing').length;
  assert.ok(started <= 2, `${started} prefetch blocks started ahead of another reader's first block`);
  const pending = c1.history(big.id);
  assert.ok([...pending.values()].filter((l) => l.at(-1).status !== 'cached').length >= 20,
    'most of the prefetch was still waiting');
});
