// Multipart uploads are written to disk by the spooler thread, not the service thread
// (server/spool.h): with a disk slower than the network (RECITE_FAULT_SLOW_DISK_MS) the
// connection is paused and resumed, WebSocket status requests are answered meanwhile, and
// the book imported from the spool file reads exactly as written (its zip checksums and
// central directory pass only if every byte landed in order); a disk that fills up during an
// upload is a 507 that stores nothing, and the next upload works.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { itest, synth, run, eventually } from './harness.mjs';
import { makeEpub } from './import-fixtures.mjs';

function upload(s, bytes, name) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  return s.post('/v1/documents', { body: form });
}

const chapters = Array.from({ length: 12 }, (_, i) => ({
  title: `Part ${i + 1}`,
  body: `<h1>Part ${i + 1}</h1><p>Paragraph ${i + 1} says its number, ${(i + 1) * 7}, twice: ${(i + 1) * 7}.</p>`,
}));
const expected = ['Spooled', ...chapters.flatMap((c, i) => [c.title,
  `Paragraph ${i + 1} says its number, ${(i + 1) * 7}, twice: ${(i + 1) * 7}.`])];

itest('a big upload on a slow disk pauses the connection, WebSockets are served meanwhile, and the file arrives byte for byte', async (t, h) => {
  const s = await h.start({ workers: 1, args: ['--max-body-mb', '64'], env: { RECITE_FAULT_SLOW_DISK_MS: '10' } });
  const doc = await s.createDoc('One cached block.', 'text');
  const c = await h.ws(s);
  c.send(synth(doc.id, [0]));
  await c.waitFinal(doc.id, [0]);
  const epub = makeEpub({
    title: 'Spooled', chapters,
    extra: [{ name: 'OEBPS/images/plates.jpg', data: randomBytes(16 << 20) }],
  });
  let finished = false;
  const pending = upload(s, epub, 'spooled.epub').finally(() => { finished = true; });
  // the disk falls behind: the server stops reading the upload...
  for (;;) {
    if ((await s.metrics()).recite_upload_pauses_total > 0) break;
    if (finished) assert.fail(`the upload ended before it was ever paused: ${(await pending).text}`);
  }
  // ...and still answers every other client
  for (let i = 0; i < 3; i++) {
    const from = c.mark();
    c.send(synth(doc.id, [0]));
    assert.equal((await c.waitFinal(doc.id, [0], { from })).get(0).at(-1).status, 'cached');
  }
  assert.ok(!finished, 'the status requests were answered while the upload was still going');
  const r = await pending;
  assert.equal(r.status, 201, r.text);
  assert.deepEqual((await s.getDoc(r.json.id)).blocks.map((b) => b.text), expected);
});

itest('a disk that fills up during a multipart upload is a 507, nothing is stored, and the next upload works', async (t, h) => {
  const mnt = join(await h.tmp(), 'mnt');
  await mkdir(mnt);
  const m = await run('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mnt]).catch((e) => ({ code: -1, stderr: e.message }));
  if (m.code !== 0) {
    t.skip(`cannot mount a tmpfs here (${m.stderr.trim() || `mount exited ${m.code}`})`);
    return;
  }
  try {
    const dataDir = join(mnt, 'data');
    await mkdir(dataDir);
    const s = await h.start({ workers: 0, dataDir, args: ['--max-body-mb', '32'] });
    const big = makeEpub({ title: 'Too Big', chapters: chapters.slice(0, 1),
      extra: [{ name: 'OEBPS/images/plates.jpg', data: randomBytes(12 << 20) }] });
    const r = await upload(s, big, 'big.epub');
    assert.equal(r.status, 507, r.text);
    assert.match(r.json.error, /could not store the upload.*disk full/);
    assert.deepEqual((await s.get('/v1/documents')).json, [], 'nothing stored');
    // the spool file was unnamed: its space is back, and nothing is left in the directory
    assert.deepEqual(readdirSync(dataDir).filter((f) => !f.startsWith('recite.db')), []);
    // the space comes back as soon as the failed upload's last write returns
    const small = makeEpub({ title: 'Spooled', chapters });
    const ok = await eventually(async () => {
      const u = await upload(s, small, 'small.epub');
      assert.ok([201, 507].includes(u.status), u.text);
      return u.status === 201 && u;
    }, 'an upload to work again');
    assert.deepEqual((await s.getDoc(ok.json.id)).blocks.map((b) => b.text), expected);
    await s.stop();
  } finally {
    await run('umount', ['-l', mnt]);
  }
});
