// Crash safety, repeated (docs/RELIABILITY.md): 20 rounds of `kill -9` at a random moment
// while documents are being uploaded (JSON and multipart, small to large) and blocks are
// being synthesized, each followed by a restart on the same data directory. After every
// crash: PRAGMA integrity_check is "ok" on the database exactly as the crash left it;
// after every restart: every document ever acknowledged with 201 is there with its blocks,
// and every audio ever reported `cached` is served with its duration and decodes.
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { itest, synth, range, run, decodes, sleep, paragraphs } from './harness.mjs';

const ROUNDS = Number(process.env.CRASH_ROUNDS || 20);

async function integrityOfCopy(h, dataDir) {
  const dir = await h.tmp();
  for (const suffix of ['', '-wal', '-shm'])
    if (existsSync(join(dataDir, `recite.db${suffix}`)))
      await copyFile(join(dataDir, `recite.db${suffix}`), join(dir, `recite.db${suffix}`));
  const r = await run('sqlite3', [join(dir, 'recite.db'), 'PRAGMA integrity_check']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** Uploads documents one after another until stopped; records every 201. */
async function uploader(s, acked, stop, round) {
  for (let i = 0; !stop.now; i++) {
    const n = 1 + Math.floor(Math.random() * (i % 4 === 3 ? 400 : 40));   // now and then a big one
    const content = paragraphs(n, `r${round}u${i}`);
    try {
      let r;
      if (i % 2) {
        const form = new FormData();
        form.append('file', new Blob([content], { type: 'text/markdown' }), `round${round}-${i}.md`);
        r = await s.http('POST', '/v1/documents', { body: form, timeout: 5000 });
      } else {
        r = await s.post('/v1/documents', { json: { content, format: 'markdown' }, timeout: 5000 });
      }
      if (r.status === 201) acked.set(r.json.id, { ...r.json, round });
      else assert.fail(`upload answered ${r.status}: ${r.text}`);
    } catch (e) {
      if (e.code === 'ERR_ASSERTION') throw e;
      return;   // the server died under us: this upload was never acknowledged
    }
  }
}

/** Asks for blocks of a document 32 at a time; records every `cached` status. */
async function reader(c, doc, cached, stop) {
  for (let first = 0; first < doc.block_count && !stop.now; first += 32) {
    const idx = range(first, Math.min(first + 32, doc.block_count));
    const from = c.mark();
    c.send(synth(doc.id, idx));
    try {
      await c.waitFinal(doc.id, idx, { from, timeoutMs: 60_000 });
    } catch {
      break;   // the socket closed: the server died
    }
  }
}

itest(`${ROUNDS} rounds of kill -9 during uploads and synthesis lose nothing acknowledged`, { timeout: 900_000 }, async (t, h) => {
  const acked = new Map();     // id -> {id, title, block_count, round}
  const cached = new Map();    // audio_url -> duration_ms
  const dir = await h.tmp();
  let s = await h.start({ workers: 2 });
  const dataDir = s.dataDir;
  let decoded = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // load: uploads and a reader of a fresh long document, until the kill
    const long = await s.createDoc(paragraphs(200, `long${round}`));
    acked.set(long.id, { ...long, round });
    const c = await h.ws(s);
    const stop = { now: false };
    const work = Promise.all([uploader(s, acked, stop, round), reader(c, long, cached, stop)]);
    await sleep(200 + Math.random() * 1800);
    const exit = await s.stop('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    stop.now = true;
    await work;
    for (const m of c.statuses(long.id))
      if (m.status === 'cached') cached.set(m.audio_url, m.duration_ms);
    c.close();

    assert.equal(await integrityOfCopy(h, dataDir), 'ok', `round ${round}: the database as the crash left it`);

    s = await h.start({ workers: 2, dataDir });
    const list = (await s.get('/v1/documents')).json;
    const listed = new Set(list.map((d) => d.id));
    for (const [id, d] of acked) {
      assert.ok(listed.has(id), `round ${round}: document ${id} (acknowledged in round ${d.round}) is listed`);
      if (d.round === round) {
        const doc = await s.getDoc(id);
        assert.equal(doc.block_count, d.block_count, `round ${round}: ${id} block count`);
        assert.equal(doc.blocks.length, d.block_count);
      }
    }
    let i = 0;
    for (const [url, dur] of cached) {
      const r = await s.get(url);
      assert.equal(r.status, 200, `round ${round}: ${url}`);
      assert.equal(Number(r.headers.get('x-duration-ms')), dur, `round ${round}: ${url} duration`);
      if (!r.body.length) assert.fail(`${url} is empty`);
      // decode a few new ones every round (all of them once, at the end)
      if (i++ < 3) {
        const file = join(dir, `r${round}-${i}.ogg`);
        await writeFile(file, r.body);
        assert.ok(await decodes(file), `round ${round}: ${url} decodes`);
        decoded++;
      }
    }
    t.diagnostic(`round ${round}: ${acked.size} documents and ${cached.size} audio blocks acknowledged so far, all present`);
  }
  // every audio ever reported cached decodes
  for (const [url] of cached) {
    const r = await s.get(url);
    const file = join(dir, 'final.ogg');
    await writeFile(file, r.body);
    assert.ok(await decodes(file), `${url} decodes`);
    decoded++;
  }
  const e = await s.stop('SIGTERM');
  assert.equal(e.code, 0);
  const r = await run('sqlite3', [join(dataDir, 'recite.db'), 'PRAGMA integrity_check']);
  assert.equal(r.stdout.trim(), 'ok');
  t.diagnostic(`${ROUNDS} rounds: ${acked.size} documents, ${cached.size} audio blocks acknowledged; ${decoded} decodes; integrity ok every time`);
  assert.ok(acked.size > ROUNDS && cached.size > ROUNDS, 'the load actually ran');
});
