// Export jobs outlive the server process (issue 13): the job is a row in the store, so a
// server killed with SIGKILL in the middle of an export resumes it on restart (the blocks it
// had made are reused from the cache) and the finished file decodes with its chapters; a
// finished export is served again after a restart; another user's export is 404; deleting
// the document takes the rows and the files; a data directory from the release before
// (schema 5) is upgraded in place and exports there.
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { itest, eventually, run, parseMetrics } from './harness.mjs';
import { exportFinished as finished, bookChapters as chaptersOf } from './export_checks.mjs';
import { addUser, as, newGuest } from './auth_harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CHAPTERS = ['Tides', 'The Moon', 'The Sun', 'Spring Tides'];
// enough blocks that a kill lands while it renders (one worker)
const para = (c, i) => `Paragraph ${i} of ${c}: the water rises and falls along the shore again.`;
const BOOK = `# Tides\n\nA book about the sea.\n\n` + CHAPTERS.slice(1).map((c) =>
  `## ${c}\n\n` + Array.from({ length: 5 }, (_, i) => para(c, i)).join('\n\n')).join('\n\n') + '\n';
const Q = 'format=m4b&model=espeak&voice=en-us';

itest('an export interrupted by SIGKILL resumes after a restart and its file has the chapters', async (t, h) => {
  const s = await h.start({ workers: 1 });
  const doc = await s.createDoc(BOOK, 'markdown');
  const start = await s.get(`/v1/documents/${doc.id}/export?${Q}`);
  assert.equal(start.status, 202, start.text);
  const mid = await eventually(async () => {
    const r = (await s.get(start.json.status_url)).json;
    return r.status === 'rendering' && r.blocks_done > 0 && r;
  }, 'the export to be rendering');
  await s.kill('SIGKILL');
  const madeBefore = mid.blocks_done;   // at least these are in the audio cache
  assert.ok(madeBefore < doc.block_count, 'killed before it finished');

  await s.start();   // the same data directory
  // the page asks for the document's newest export without parameters: it is still there
  const after = await s.get(`/v1/documents/${doc.id}/export/status`);
  assert.equal(after.status, 200, after.text);
  assert.ok(['preparing', 'rendering', 'assembling', 'done'].includes(after.json.status), after.text);
  assert.equal(after.json.format, 'm4b');
  const done = await finished(s, after.json.status_url);
  assert.equal(done.blocks_done, doc.block_count);
  assert.ok((await s.metrics()).recite_syntheses_total <= doc.block_count - madeBefore,
    'the blocks made before the kill are not synthesized again');
  const file = await s.get(done.download_url);
  assert.equal(file.status, 200);
  assert.match(file.headers.get('content-disposition'), /filename="Tides\.m4b"/);
  assert.deepEqual(await chaptersOf(h, file.body), CHAPTERS);
  // nothing half-written is left beside it
  assert.deepEqual(readdirSync(join(s.dataDir, 'exports')), [`${doc.id}-espeak-en-us.m4b`]);
});

itest('an export answered 202 is on disk: a SIGKILL right after the answer does not lose it', async (t, h) => {
  // every save of the job's row takes 1.5 s here: a 202 sent before its row was written
  // would be lost by the kill that follows it at once
  const s = await h.start({ workers: 1, env: { RECITE_FAULT_SLOW_DISK_MS: '1500' } });
  const doc = await s.createDoc(BOOK, 'markdown');
  const start = await s.get(`/v1/documents/${doc.id}/export?${Q}`);
  assert.equal(start.status, 202, start.text);
  await s.kill('SIGKILL');
  await s.start();
  const after = await s.get(`/v1/documents/${doc.id}/export/status`);
  assert.equal(after.status, 200, after.text);
  assert.equal(after.json.format, 'm4b');
});

itest('a finished export survives restarts, is its owner\'s only, and goes with its document', async (t, h) => {
  const dir = await h.tmp();
  const A = { token: await addUser(dir, 'alice') };
  const B = { token: await addUser(dir, 'bob') };
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth'] });
  let alice = as(s, h, A);
  const doc = await alice.createDoc('# Short\n\n## One\n\nFirst part.\n\n## Two\n\nSecond part.\n');
  const start = await alice.get(`/v1/documents/${doc.id}/export?${Q}`);
  assert.equal(start.status, 202, start.text);
  const done = await finished(alice, start.json.status_url);
  const before = (await alice.get(done.download_url)).body;

  await s.kill('SIGKILL');   // not even a clean shutdown
  await s.start();
  alice = as(s, h, A);
  const bob = as(s, h, B);
  const again = await alice.get(`/v1/documents/${doc.id}/export/status`);
  assert.equal(again.status, 200);
  assert.equal(again.json.status, 'done');
  assert.equal(again.json.duration_ms, done.duration_ms);
  const started = await alice.get(`/v1/documents/${doc.id}/export?${Q}`);
  assert.equal(started.status, 200, 'asking again answers the finished export');
  const file = await alice.get(done.download_url);
  assert.equal(file.status, 200);
  assert.ok(file.body.equals(before), 'the same file');
  assert.match(file.headers.get('content-disposition'), /filename="Short\.m4b"/);
  assert.equal(parseMetrics((await alice.get('/metrics')).text).recite_syntheses_total, 0,
    'nothing was made again');
  // another user sees nothing of it
  assert.equal((await bob.get(`/v1/documents/${doc.id}/export/status`)).status, 404);
  assert.equal((await bob.get(done.download_url)).status, 404);

  assert.equal((await alice.http('DELETE', `/v1/documents/${doc.id}`)).status, 204);
  assert.equal((await alice.get(done.download_url)).status, 404);
  assert.deepEqual(readdirSync(join(dir, 'exports')), []);
  await s.restart();   // the rows went with the document: nothing comes back
  alice = as(s, h, A);
  assert.equal((await alice.get(done.download_url)).status, 404);
  const q = await run('sqlite3', [join(dir, 'recite.db'), 'SELECT count(*) FROM exports']);
  assert.equal(q.stdout.trim(), '0');
});

itest('a data directory from before saved exports (schema 5) is upgraded and exports', async (t, h) => {
  // tests/data/datadir-v5: written by the release before this one: one markdown document
  // with two chapters, never exported
  const dir = await h.tmp();
  await cp(resolve(here, '../data/datadir-v5/recite.db'), join(dir, 'recite.db'));
  const s = await h.start({ dataDir: dir, workers: 1 });
  const [doc] = (await s.get('/v1/documents')).json;
  assert.equal(doc.title, 'Before exports');
  assert.equal((await s.get(`/v1/documents/${doc.id}/export/status`)).json.status, 'none');
  const start = await s.get(`/v1/documents/${doc.id}/export?${Q}`);
  assert.equal(start.status, 202, start.text);
  const done = await finished(s, start.json.status_url);
  await s.restart();
  const file = await s.get(done.download_url);
  assert.equal(file.status, 200);
  assert.deepEqual(await chaptersOf(h, file.body), ['Before exports', 'First', 'Second']);
  assert.ok(existsSync(join(dir, 'exports')));
});

itest('a guest who expires takes their exports with them: rows and files', async (t, h) => {
  const dir = await h.tmp();
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth'] });
  const guest = as(s, h, await newGuest(s));
  const doc = await guest.createDoc('# Brief\n\nA guest\'s short book.\n');
  const start = await guest.get(`/v1/documents/${doc.id}/export?${Q}`);
  assert.equal(start.status, 202, start.text);
  await finished(guest, start.json.status_url);
  assert.equal(readdirSync(join(dir, 'exports')).length, 1);
  await s.stop();
  // thirty days pass without the guest (expiry runs at start-up, then hourly)
  const q = await run('sqlite3', [join(dir, 'recite.db'), 'UPDATE users SET last_seen = 0, created_at = 0 WHERE guest_id IS NOT NULL']);
  assert.equal(q.code, 0, q.stderr);
  await s.start();
  assert.match(s.log, /removed 1 guest idle for 30 days/);
  assert.deepEqual(readdirSync(join(dir, 'exports')), []);
  const rows = await run('sqlite3', [join(dir, 'recite.db'), 'SELECT count(*) FROM exports']);
  assert.equal(rows.stdout.trim(), '0');
});
