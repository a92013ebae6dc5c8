// Bad input on the WebSocket (SPEC section 4): every malformed or invalid message gets an
// `error` message, queues nothing, and the connection stays open; frames over 64 KiB close
// with 1009, invalid UTF-8 with 1007, and the server keeps serving everyone else; the
// WebSocket lives only on /v1/ws/tts.
import assert from 'node:assert/strict';
import { itest, synth, range, paragraphs, HANG_MS } from './harness.mjs';

const UNKNOWN_DOC = '4f9a1c2e-7b3d-4e5f-8a6b-0c1d2e3f4a5b';

itest('each invalid message gets an error, queues nothing, and the connection stays open', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(paragraphs(40));
  const c = await h.ws(s);
  // block 0 is the probe: once cached, asking for it again answers `cached` at once
  c.send(synth(d.id, [0]));
  await c.waitFinal(d.id, [0]);
  const base = await s.metrics();

  const id = d.id;
  const cases = [
    ['malformed JSON', '{"type": "synthesize", '],
    ['JSON array', '[1, 2, 3]'],
    ['JSON string', '"synthesize"'],
    ['JSON number', '42'],
    ['JSON null', 'null'],
    ['empty message', ''],
    ['unknown type', { type: 'dance', document_id: id }],
    ['missing type', { document_id: id, block_indices: [1], cursor: 1 }],
    ['type not a string', { type: 7, document_id: id, block_indices: [1] }],
    ['missing document_id', { ...synth(id, [1]), document_id: undefined }],
    ['document_id a number', synth(123, [1])],
    ['document_id not an id', synth('../../etc/passwd', [1])],
    ['unknown document', synth(UNKNOWN_DOC, [1])],
    ['block_indices missing', { ...synth(id, [1]), block_indices: undefined }],
    ['block_indices a string', { ...synth(id, [1]), block_indices: '1,2' }],
    ['block_indices an object', { ...synth(id, [1]), block_indices: { 0: 1 } }],
    ['block_indices with a float', synth(id, [1, 2.5], { cursor: 1 })],
    ['block_indices with a string', synth(id, [1, '2'], { cursor: 1 })],
    ['block_indices with null', synth(id, [1, null], { cursor: 1 })],
    ['33 indices', synth(id, range(1, 34), { cursor: 1 })],
    ['unknown model', synth(id, [1], { model: 'no-such-model' })],
    ['unknown voice', synth(id, [1], { voice: 'xx-nowhere' })],
    ['cursor a string', synth(id, [1], { cursor: 'one' })],
    ['cursor a float', synth(id, [1], { cursor: 1.5 })],
    ['cursor_moved without cursor', { type: 'cursor_moved', document_id: id }],
    ['cursor_moved cursor a string', { type: 'cursor_moved', document_id: id, cursor: '3' }],
    ['cursor_moved unknown document', { type: 'cursor_moved', document_id: UNKNOWN_DOC, cursor: 3 }],
  ];
  for (const [name, msg] of cases) {
    const from = c.mark();
    c.sendRaw(typeof msg === 'string' ? msg : JSON.stringify(msg));
    const err = await c.waitFor((m) => m.type === 'error', HANG_MS, from, `an error for "${name}"`);
    assert.equal(typeof err.error, 'string', name);
    assert.ok(err.error.length > 0, name);
    // still open: the probe is answered
    c.send(synth(id, [0]));
    const probe = await c.waitFor((m) => m.type === 'status', HANG_MS, from, `the probe after "${name}"`);
    assert.equal(probe.block_idx, 0, `"${name}" produced a status for block ${probe.block_idx}`);
    assert.equal(probe.status, 'cached', name);
    const between = c.messages.slice(from);
    assert.equal(between.filter((m) => m.type === 'error').length, 1, `one error for "${name}"`);
    assert.ok(c.isOpen, `connection open after "${name}"`);
  }
  const docErr = c.messages.filter((m) => m.type === 'error' && m.document_id !== undefined);
  for (const m of docErr) assert.equal(typeof m.document_id, 'string');

  // nothing was ever queued by any of it
  assert.deepEqual(c.statuses().filter((m) => m.block_idx !== 0), []);
  const m = await s.metrics();
  assert.equal(m.recite_cache_misses_total, base.recite_cache_misses_total);
  assert.equal(m.recite_syntheses_total, 1);
  assert.equal(m.recite_jobs_queued, 0);

  // and a valid request for new blocks still works on the same connection
  const from = c.mark();
  c.send(synth(id, [1, 2]));
  const hist = await c.waitFinal(id, [1, 2], { from });
  assert.equal(hist.get(1).at(-1).status, 'cached');
  assert.equal(hist.get(2).at(-1).status, 'cached');
});

itest('a model or voice of the wrong JSON type is an error, not the default voice',
  async (t, h) => {
    const s = await h.start({ workers: 1 });
    const d = await s.createDoc('Read this in the voice I asked for.');
    const c = await h.ws(s);
    for (const extra of [{ voice: 5 }, { voice: ['de'] }, { model: 1 }, { model: { slug: 'espeak' } }]) {
      const from = c.mark();
      c.send(synth(d.id, [0], extra));
      const first = await c.waitFor((m) => m.type === 'error' || m.type === 'status', HANG_MS, from,
        `an answer to ${JSON.stringify(extra)}`);
      assert.equal(first.type, 'error', `${JSON.stringify(extra)} got ${JSON.stringify(first)}`);
    }
    assert.deepEqual(c.statuses(), [], 'nothing synthesized in a voice nobody asked for');
  });

itest('exactly 32 indices are accepted', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const d = await s.createDoc(paragraphs(40));
  const c = await h.ws(s);
  c.send(synth(d.id, range(0, 32)));
  await c.barrier();
  // every index was answered at once, and nothing was refused
  assert.deepEqual([...c.history(d.id).keys()].sort((a, b) => a - b), range(0, 32));
  assert.equal(c.messages.filter((m) => m.type === 'error').length, 1, 'the only error is the barrier\'s');
  const m = await s.metrics();
  assert.equal(m.recite_cache_misses_total, 32);
});

itest('a frame over 64 KiB closes with 1009, and others are still served', async (t, h) => {
  const s = await h.start();
  const d = await s.createDoc('A sentence to read.');
  const bystander = await h.ws(s);

  // just under the limit is a message like any other
  const near = await h.ws(s);
  near.send({ ...synth(d.id, [0]), padding: 'x'.repeat(60 * 1024) });
  await near.waitFinal(d.id, [0]);

  const big = await h.ws(s);
  big.send({ ...synth(d.id, [0]), padding: 'x'.repeat(70 * 1024) });
  const closed = await big.waitClose();
  assert.equal(closed.code, 1009);

  // the same size in fragments of 16 KiB
  const frag = await h.ws(s);
  const text = JSON.stringify({ ...synth(d.id, [0]), padding: 'y'.repeat(70 * 1024) });
  for (let off = 0; off < text.length; off += 16384)
    frag.ws.send(text.slice(off, off + 16384), { fin: off + 16384 >= text.length });
  assert.equal((await frag.waitClose()).code, 1009);

  bystander.send(synth(d.id, [0]));
  const hist = await bystander.waitFinal(d.id, [0]);
  assert.equal(hist.get(0).at(-1).status, 'cached');
  const fresh = await h.ws(s);
  fresh.send(synth(d.id, [0]));
  assert.equal((await fresh.waitFinal(d.id, [0])).get(0)[0].status, 'cached');
});

itest('invalid UTF-8 in a text frame closes with 1007, and others are still served', async (t, h) => {
  const s = await h.start();
  const d = await s.createDoc('Another sentence to read.');
  const bystander = await h.ws(s);
  const bad = await h.ws(s);
  const frame = Buffer.concat([Buffer.from(`{"type":"synthesize","document_id":"${d.id}","voice":"`),
    Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
  bad.sendRaw(frame, { binary: false });
  assert.equal((await bad.waitClose()).code, 1007);
  assert.deepEqual(bad.statuses(), []);

  bystander.send(synth(d.id, [0]));
  assert.equal((await bystander.waitFinal(d.id, [0])).get(0).at(-1).status, 'cached');
  assert.deepEqual((await s.get('/healthz')).json, { status: 'ok' });
});

itest('a WebSocket upgrade on another path is refused', async (t, h) => {
  const s = await h.start();
  for (const path of ['/v1/ws/other', '/v1/ws/tts/extra', '/', '/v1/documents']) {
    await assert.rejects(h.ws(s, path), (e) => {
      assert.ok(!(e.statusCode >= 100 && e.statusCode < 300), `${path}: upgrade refused (got ${e.statusCode})`);
      return true;
    }, `${path} must not accept a WebSocket`);
  }
  const ok = await h.ws(s);
  assert.ok(ok.isOpen);
  assert.deepEqual((await s.get('/healthz')).json, { status: 'ok' });
});
