// "Export audio" as a server job (issue 13): GET /v1/documents/{id}/export starts it, the
// status endpoint follows it (blocks done / total, time left) until the file can be
// downloaded — an .m4b with the document's chapters that decodes; a second export in
// another format reuses the cached blocks (no synthesis); the newest export is found again
// without parameters (a reloaded page); bad requests are 4xx.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { itest, eventually } from './harness.mjs';
import { exportFinished as finished, bookChapters } from './export_checks.mjs';

const BOOK = '# Tides\n\nA short book about the sea.\n\n## The Moon\n\nThe moon pulls the water. Twice a day.\n\n' +
  '## The Sun\n\nThe sun helps a little.\n\n## Spring Tides\n\nWhen both pull together, tides are high.\n';

itest('an export runs on the server, reports progress and downloads as a book with chapters', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const doc = await s.createDoc(BOOK, 'markdown');
  const start = await s.get(`/v1/documents/${doc.id}/export?format=m4b&model=espeak&voice=en-us`);
  assert.equal(start.status, 202, start.text);
  assert.ok(['preparing', 'rendering'].includes(start.json.status), start.text);
  assert.equal(start.json.format, 'm4b');
  const early = await s.get(`/v1/documents/${doc.id}/export/file?format=m4b&model=espeak&voice=en-us`);
  assert.ok([409, 200].includes(early.status), `${early.status}`);   // 200 only if it was that fast
  const done = await finished(s, start.json.status_url);
  assert.equal(done.blocks_done, doc.block_count);
  assert.equal(done.blocks_total, doc.block_count);
  const file = await s.get(done.download_url);
  assert.equal(file.status, 200);
  assert.match(file.headers.get('content-type'), /audio\/mp4/);
  assert.match(file.headers.get('content-disposition'), /attachment; filename="Tides\.m4b"/);
  assert.deepEqual(await bookChapters(h, file.body, 'tides.m4b'), ['Tides', 'The Moon', 'The Sun', 'Spring Tides']);

  // the same voice in another format: every block is cached now, nothing is synthesized
  const before = (await s.metrics()).recite_syntheses_total;
  const mp3 = await s.get(`/v1/documents/${doc.id}/export?format=mp3&model=espeak&voice=en-us`);
  assert.ok([200, 202].includes(mp3.status), mp3.text);
  await finished(s, mp3.json.status_url);
  assert.equal((await s.metrics()).recite_syntheses_total, before, 'no block synthesized again');
  // asking again answers the finished job; the newest export is found without parameters
  const again = await s.get(`/v1/documents/${doc.id}/export?format=mp3&model=espeak&voice=en-us`);
  assert.equal(again.status, 200);
  assert.equal(again.json.status, 'done');
  const latest = await s.get(`/v1/documents/${doc.id}/export/status`);
  assert.equal(latest.status, 200);
  assert.equal(latest.json.format, 'mp3');

  // deleting the document takes its exports with it: no download outlives it
  assert.equal((await s.http('DELETE', `/v1/documents/${doc.id}`)).status, 204);
  assert.equal((await s.get(done.download_url)).status, 404);
  assert.deepEqual(readdirSync(join(s.dataDir, 'exports')), []);
});

itest('bad export requests are 4xx with a message', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const doc = await s.createDoc('Some text.', 'text');
  const cases = [
    [`/v1/documents/${doc.id}/export?format=flac`, 400, /unknown export format/],
    [`/v1/documents/${doc.id}/export?model=espeak&voice=no-such-voice`, 400, /unknown model or voice/],
    ['/v1/documents/00000000-0000-4000-8000-000000000000/export', 404, /not found/],
    [`/v1/documents/${doc.id}/export/status?format=m4b`, 404, /no export/],
    [`/v1/documents/${doc.id}/export/file?format=ogg`, 404, /no export/],
  ];
  for (const [path, status, re] of cases) {
    const r = await s.get(path);
    assert.equal(r.status, status, `${path}: ${r.text}`);
    assert.match(r.json.error, re, path);
  }
  // "is there an export?" for a document never exported: none, not an error
  const none = await s.get(`/v1/documents/${doc.id}/export/status`);
  assert.equal(none.status, 200);
  assert.equal(none.json.status, 'none');
});

itest('an export stops with the reason when the quota is spent', async (t, h) => {
  const s = await h.start({ workers: 1, args: ['--quota-chars', '40'] });
  const doc = await s.createDoc(BOOK, 'markdown');
  const start = await s.get(`/v1/documents/${doc.id}/export?format=ogg`);
  assert.equal(start.status, 202, start.text);
  const failed = await eventually(async () => {
    const r = await s.get(start.json.status_url);
    return r.json.status === 'error' && r.json;
  }, 'the export to stop');
  assert.match(failed.error, /quota/i);
  assert.ok(failed.blocks_done < failed.blocks_total);
});
