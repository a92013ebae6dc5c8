// Disk full (docs/RELIABILITY.md): the data directory is a small tmpfs (mounted here; the
// test is skipped where mounting is not allowed) with a ballast file taking most of it.
// Uploads and synthesis are driven until the disk is full. Checked: full-disk failures are
// clear errors (an HTTP 5xx with a JSON error naming the cause, an `error` status for a block)
// while the server keeps serving what it has; the database is never corrupted; acknowledged
// documents and audio survive; and once the ballast is removed, uploads and synthesis work
// again without a restart.
import assert from 'node:assert/strict';
import { mkdir, writeFile, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { itest, synth, range, run, paragraphs, sleep } from './harness.mjs';

async function tryMount(dir, size) {
  const r = await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).catch((e) => ({ code: -1, stderr: e.message }));
  return r.code === 0 ? null : r.stderr.trim() || `mount exited ${r.code}`;
}

async function freeBytes(dir) {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

async function integrity(file) {
  const r = await run('sqlite3', [file, 'PRAGMA integrity_check']);
  return r.stdout.trim() || r.stderr.trim();
}

itest('disk full: clear errors, no corruption, and recovery when space returns', { timeout: 300_000 }, async (t, h) => {
  const mnt = join(await h.tmp(), 'mnt');
  await mkdir(mnt);
  const why = await tryMount(mnt, '8m');
  if (why) {
    t.skip(`cannot mount a tmpfs here (${why})`);
    return;
  }
  try {
    const dataDir = join(mnt, 'data');
    await mkdir(dataDir);
    const s = await h.start({ workers: 1, dataDir });
    const first = await s.createDoc(paragraphs(6, 'before'));
    const c = await h.ws(s);
    c.send(synth(first.id, range(0, 6)));
    const before = await c.waitFinal(first.id, range(0, 6), { timeoutMs: 60_000 });
    const audioBefore = [...before.values()].map((l) => l.at(-1)).filter((m) => m.status === 'cached');
    assert.equal(audioBefore.length, 6);

    // fill the disk: a ballast file leaves ~64 KiB free
    const ballast = join(mnt, 'ballast');
    await writeFile(ballast, Buffer.alloc(Math.max(0, (await freeBytes(mnt)) - 64 * 1024)));
    t.diagnostic(`free after ballast: ${await freeBytes(mnt)} bytes`);

    // uploads until they fail: each failure is a clear 5xx JSON error, never a hang or a crash
    const acked = [];
    let failure = null;
    for (let i = 0; i < 200 && !failure; i++) {
      const r = await s.post('/v1/documents', { json: { content: paragraphs(40, `full${i}`), format: 'markdown' } });
      if (r.status === 201) acked.push(r.json);
      else failure = r;
    }
    assert.ok(failure, 'the disk filled up');
    t.diagnostic(`upload on a full disk: ${failure.status} ${failure.text}`);
    assert.ok(failure.status >= 500 && failure.status < 600, `status ${failure.status}`);
    assert.equal(typeof failure.json?.error, 'string', 'a JSON error');
    assert.equal(failure.status, 507, 'Insufficient Storage');
    assert.match(failure.json.error, /out of disk space/, 'the error says what went wrong');

    // synthesis on a full disk: an `error` status (recoverable), and the socket stays open
    const fresh = acked.length ? acked[acked.length - 1] : first;
    const target = acked.length ? range(0, 8) : [];
    let synthError = null;
    if (target.length) {
      const from = c.mark();
      c.send(synth(fresh.id, target));
      const hist = await c.waitFinal(fresh.id, target, { from, timeoutMs: 120_000 });
      const finals = [...hist.values()].map((l) => l.at(-1));
      synthError = finals.find((m) => m.status === 'error');
      t.diagnostic(`synthesis on a full disk: ${finals.map((m) => m.status).join(' ')}${synthError ? ` (${synthError.error})` : ''}`);
      if (synthError) {
        assert.equal(synthError.recoverable, true);
        assert.match(synthError.error, /out of disk space/, "the block's error names the cause");
      }
    }
    // an export started on a full disk: saved (202) or refused with the cause (507), and a
    // refused one is not left behind as a job that a restart would not find
    const ex = await s.get(`/v1/documents/${first.id}/export?format=ogg`);
    t.diagnostic(`export on a full disk: ${ex.status} ${ex.text.slice(0, 120)}`);
    assert.ok([200, 202, 507].includes(ex.status), `export start: ${ex.status} ${ex.text}`);
    if (ex.status === 507) {
      assert.match(ex.json.error, /out of disk space/);
      const st = await s.get(`/v1/documents/${first.id}/export/status?format=ogg`);
      assert.equal(st.json?.status, 'error', st.text);
    }

    // what was stored before is still served
    for (const m of audioBefore) assert.equal((await s.get(m.audio_url)).status, 200);
    assert.equal((await s.get(`/v1/documents/${first.id}`)).status, 200);
    assert.equal(await integrity(join(dataDir, 'recite.db')), 'ok', 'no corruption while full');

    // space returns: everything works again, without a restart
    await rm(ballast);
    await sleep(200);
    const after = await s.createDoc(paragraphs(5, 'after'));
    const from = c.mark();
    c.send(synth(after.id, range(0, 5)));
    const hist = await c.waitFinal(after.id, range(0, 5), { from, timeoutMs: 60_000 });
    for (const [idx, l] of hist) assert.equal(l.at(-1).status, 'cached', `block ${idx} after recovery`);
    if (synthError) {
      // the block that failed for lack of space is synthesized now when asked again
      const f2 = c.mark();
      c.send(synth(fresh.id, [synthError.block_idx]));
      const h2 = await c.waitFinal(fresh.id, [synthError.block_idx], { from: f2, timeoutMs: 60_000 });
      assert.equal(h2.get(synthError.block_idx).at(-1).status, 'cached');
    }
    for (const d of acked) assert.equal((await s.get(`/v1/documents/${d.id}`)).status, 200, `acknowledged ${d.id}`);

    // and after a clean restart: acknowledged work is there and the database is sound
    assert.equal((await s.stop('SIGTERM')).code, 0);
    assert.equal(await integrity(join(dataDir, 'recite.db')), 'ok');
    const s2 = await h.start({ workers: 1, dataDir });
    const ids = new Set((await s2.get('/v1/documents')).json.map((d) => d.id));
    for (const d of [first, ...acked, after]) assert.ok(ids.has(d.id), `${d.id} survived`);
    await s2.stop('SIGTERM');
  } finally {
    await run('umount', ['-l', mnt]);
  }
});
