// `recite export`: a whole document, from the data dir by id or from a local markdown file,
// to one audio file whose length is the sum of its blocks.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { BIN, run, probe, decodes, itest, paragraphs, range, synth } from './harness.mjs';

const md = '# Exported\n\nThe first paragraph is short.\n\nThe second paragraph says a little more than the first one did.\n';

itest('export writes one file for a stored document and for a markdown file', async (t, h) => {
  const s = await h.start();
  const doc = await s.createDoc(md);
  await s.stop('SIGTERM');              // export opens the same data dir
  const dir = await h.tmp();

  const fromId = join(dir, 'doc.ogg');
  const r1 = await run(BIN, ['export', '--data', s.dataDir, doc.id, '-o', fromId]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.ok(await decodes(fromId), 'the exported Ogg decodes');
  const p1 = await probe(fromId);
  assert.equal(p1.codec, 'opus');

  const file = join(dir, 'notes.md');
  await writeFile(file, md);
  const fromFile = join(dir, 'notes.wav');
  const r2 = await run(BIN, ['export', file, '-o', fromFile]);
  assert.equal(r2.code, 0, r2.stderr);
  const p2 = await probe(fromFile);
  // the same three blocks, the same voice: the same length whatever the container
  assert.ok(Math.abs(p2.duration_s - p1.duration_s) < 0.1, `${p2.duration_s} vs ${p1.duration_s}`);
  assert.ok(p1.duration_s > 3, `three blocks of speech last a few seconds (got ${p1.duration_s})`);

  const bad = await run(BIN, ['export', '--data', s.dataDir, '00000000-0000-4000-8000-000000000000', '-o', join(dir, 'x.ogg')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /no document/);
});

itest('export reuses the audio the server already made, and streams MP3 too', async (t, h) => {
  const s = await h.start();
  const doc = await s.createDoc(paragraphs(6));
  const c = await h.ws(s);
  c.send(synth(doc.id, range(0, 6)));
  const hist = await c.waitFinal(doc.id, range(0, 6));
  const served = [...hist.values()].reduce((sum, l) => sum + l.at(-1).duration_ms, 0);
  // the structural pauses between blocks (paragraph ends here), not after the last one
  const { blocks } = await s.getDoc(doc.id);
  const pauses = blocks.slice(0, -1).reduce((sum, b) => sum + b.pause_ms, 0);
  assert.ok(blocks.slice(0, -1).every((b) => b.pause_ms > 300), 'paragraph pauses are long');
  c.close();
  await s.stop('SIGTERM');
  const dir = await h.tmp();

  const out = join(dir, 'cached.mp3');
  const r = await run(BIN, ['export', '--data', s.dataDir, doc.id, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  // every block came from the data dir: nothing was synthesized again
  assert.match(r.stderr, /6 blocks \(6 from the cache\)/);
  const p = await probe(out);
  assert.equal(p.codec, 'mp3');
  assert.ok(await decodes(out), 'the exported MP3 decodes');
  // the file is the served blocks end to end with the pauses between them (MP3 adds at
  // most a frame or two)
  const want = (served + pauses) / 1000;
  assert.ok(Math.abs(p.duration_s - want) < 0.2, `${p.duration_s} s vs ${served} ms served + ${pauses} ms of pauses`);
});
