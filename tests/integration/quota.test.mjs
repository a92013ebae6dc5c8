// Quotas and rate limits (SPEC section 7), and the upgrade of a data directory written by
// the release before accounts.
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { itest, synth, range } from './harness.mjs';
import { addUser, userCmd, as } from './auth_harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));

// blocks of exactly 40 characters each
const BLOCK = (i, tag) => `Block ${i} of the quota test, ${tag}.`.padEnd(39, 'x') + '.';

itest('a spent quota stops new blocks with an unrecoverable error; cache hits stay free', async (t, h) => {
  const dir = await h.tmp();
  const A = { token: await addUser(dir, 'alice') };
  const B = { token: await addUser(dir, 'bob') };
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth', '--quota-chars', '50'] });
  const alice = as(s, h, A);
  const bob = as(s, h, B);
  const text = range(0, 3).map((i) => BLOCK(i, 'q')).join('\n\n');
  const doc = await alice.createDoc(text);
  assert.equal(doc.block_count, 3);
  const c = await alice.ws();
  c.send(synth(doc.id, [0]));
  assert.equal((await c.waitFinal(doc.id, [0])).get(0).at(-1).status, 'cached');
  let me = await alice.me();
  assert.equal(me.used_chars, 40);
  assert.equal(me.quota_chars, 50);
  assert.ok(Date.parse(me.resets_at) > Date.now() + 29 * 86400e3, me.resets_at);
  c.send(synth(doc.id, [1]));
  assert.equal((await c.waitFinal(doc.id, [1])).get(1).at(-1).status, 'cached');
  me = await alice.me();
  assert.equal(me.used_chars, 80);
  // past the quota: a new block is an unrecoverable error saying when it resets
  let from = c.mark();
  c.send(synth(doc.id, [2]));
  const err = (await c.waitFinal(doc.id, [2], { from })).get(2).at(-1);
  assert.equal(err.status, 'error');
  assert.equal(err.recoverable, false);
  assert.match(err.error, /quota/);
  assert.match(err.error, /resets at \d{4}-\d\d-\d\d/);
  // blocks already made are still served (cache hits are free)
  from = c.mark();
  c.send(synth(doc.id, [0, 1]));
  const again = await c.waitFinal(doc.id, [0, 1], { from });
  assert.deepEqual([again.get(0).at(-1).status, again.get(1).at(-1).status], ['cached', 'cached']);
  assert.equal((await alice.me()).used_chars, 80);
  // bob's document with the same text: cached for him too, and free
  const bdoc = await bob.createDoc(text);
  const cb = await bob.ws();
  cb.send(synth(bdoc.id, [0, 1]));
  const hb = await cb.waitFinal(bdoc.id, [0, 1]);
  assert.equal(hb.get(0).at(-1).status, 'cached');
  assert.equal((await bob.me()).used_chars, 0);
  // usage survives a restart (the charges reached the store)
  await s.stop();
  const s2 = await h.start({ dataDir: dir, workers: 1, args: ['--auth', '--quota-chars', '50'] });
  assert.equal((await as(s2, h, A).me()).used_chars, 80);
});

itest('a variant synthesized once for two users is charged once', async (t, h) => {
  const dir = await h.tmp();
  const A = { token: await addUser(dir, 'alice') };
  const B = { token: await addUser(dir, 'bob') };
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth', '--quota-chars', '1000'] });
  const alice = as(s, h, A);
  const bob = as(s, h, B);
  const text = range(0, 6).map((i) => BLOCK(i, 'dedup')).join('\n\n');
  const [da, db] = [await alice.createDoc(text), await bob.createDoc(text)];
  const [ca, cb] = [await alice.ws(), await bob.ws()];
  ca.send(synth(da.id, range(0, 6)));
  cb.send(synth(db.id, range(0, 6)));
  await ca.waitFinal(da.id, range(0, 6));
  await cb.waitFinal(db.id, range(0, 6));
  const used = (await alice.me()).used_chars + (await bob.me()).used_chars;
  assert.equal(used, 6 * 40, 'each block paid for exactly once, by one of them');
});

itest('--rate-blocks counts blocks, not messages; the rest get a recoverable error and are not queued', async (t, h) => {
  const dir = await h.tmp();
  const A = { token: await addUser(dir, 'alice') };
  const B = { token: await addUser(dir, 'bob') };
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth', '--rate-blocks', '5'] });
  const alice = as(s, h, A);
  const text = range(0, 8).map((i) => BLOCK(i, 'rate')).join('\n\n');
  const doc = await alice.createDoc(text);
  const c = await alice.ws();
  // three messages of 2, 2 and 4 blocks: the 6th block onwards is over the limit
  c.send(synth(doc.id, [0, 1]));
  c.send(synth(doc.id, [2, 3], { cursor: 0 }));
  c.send(synth(doc.id, [4, 5, 6, 7], { cursor: 0 }));
  const hist = await c.waitFinal(doc.id, range(0, 8));
  for (const i of [5, 6, 7]) {
    const l = hist.get(i);
    assert.equal(l.length, 1, `block ${i} got exactly one status: ${JSON.stringify(l)}`);
    assert.equal(l[0].status, 'error');
    assert.equal(l[0].recoverable, true);
    assert.match(l[0].error, /retry/);
  }
  for (const i of range(0, 5)) assert.equal(hist.get(i).at(-1).status, 'cached', `block ${i}`);
  await c.barrier();
  assert.equal(c.statuses(doc.id).filter((m) => [5, 6, 7].includes(m.block_idx)).length, 3,
    'nothing was queued for the refused blocks');
  // the limit is per user: bob is not affected
  const bob = as(s, h, B);
  const bd = await bob.createDoc('Bob reads one block.');
  const cb = await bob.ws();
  cb.send(synth(bd.id, [0]));
  assert.equal((await cb.waitFinal(bd.id, [0])).get(0).at(-1).status, 'cached');
});

itest('a data directory from before accounts is upgraded in place; its documents go to the first user', async (t, h) => {
  // tests/data/datadir-v1 was written by the release before accounts (schema 1): two
  // documents, one with a saved position, one block of audio
  const dir = await h.tmp();
  await cp(resolve(here, '../data/datadir-v1/recite.db'), `${dir}/recite.db`);
  const plain = await h.start({ dataDir: dir, workers: 1 });
  const before = (await plain.get('/v1/documents')).json;
  assert.equal(before.length, 2);
  assert.equal(before.find((d) => d.title === 'Before accounts').last_block_idx, 1);
  await plain.stop();
  const add = await userCmd(dir, 'add', 'alice');
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stderr, /first user: the 2 documents it held before accounts now belong to alice/);
  const token = add.stdout.trim();
  const bob = await addUser(dir, 'bob');
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth'] });
  const A = as(s, h, { token });
  const docs = (await A.get('/v1/documents')).json;
  assert.deepEqual(docs.map((d) => d.id).sort(), before.map((d) => d.id).sort());
  assert.equal(docs.find((d) => d.title === 'Before accounts').last_block_idx, 1);
  assert.equal((await as(s, h, { token: bob }).get('/v1/documents')).json.length, 0);
  // the stored audio is still there: the old block is cached at once
  const old = docs.find((d) => d.title === 'Old two');
  const c = await A.ws();
  c.send(synth(old.id, [0]));
  const first = await c.waitFor((m) => m.type === 'status');
  assert.equal(first.status, 'cached');
});

itest('POST /v1/audio/speech counts against the quota, and past it answers 429 with the reason', async (t, h) => {
  const dir = await h.tmp();
  const A = { token: await addUser(dir, 'alice') };
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth', '--quota-chars', '50'] });
  const alice = as(s, h, A);
  const speech = (input) => alice.post('/v1/audio/speech', { json: { model: 'espeak', voice: 'en-us', input, response_format: 'opus' } });
  assert.equal((await speech(BLOCK(0, 'speech'))).status, 200);
  assert.equal((await alice.me()).used_chars, 40);
  assert.equal((await speech(BLOCK(0, 'speech'))).status, 200, 'the same input again is a cache hit: free');
  assert.equal((await alice.me()).used_chars, 40);
  assert.equal((await speech(BLOCK(1, 'speech'))).status, 200);
  const over = await speech(BLOCK(2, 'speech'));
  assert.equal(over.status, 429);
  assert.match(over.json.error, /quota of 50 characters/);
  assert.equal((await alice.me()).used_chars, 80);
});

itest('queued blocks reserve quota until they end; eviction and a closed socket give it back', async (t, h) => {
  // no workers: blocks stay queued, so only the reservations decide
  const dir = await h.tmp();
  const A = { token: await addUser(dir, 'alice') };
  const s = await h.start({ dataDir: dir, workers: 0, args: ['--auth', '--quota-chars', '100'] });
  const alice = as(s, h, A);
  const doc = await alice.createDoc(range(0, 6).map((i) => BLOCK(i, 'reserve')).join('\n\n'));
  const c1 = await alice.ws();
  c1.send(synth(doc.id, [0, 1, 2, 3]));
  const h1 = await c1.waitFinal(doc.id, [3]);
  assert.deepEqual([0, 1, 2].map((i) => h1.get(i)[0].status), ['queued', 'queued', 'queued']);
  assert.equal(h1.get(3).at(-1).status, 'error', '3 x 40 chars queued against 100: the 4th is refused');
  assert.equal(h1.get(3).at(-1).recoverable, false);
  // moving the cursor away evicts 0..2: their reservation comes back
  let from = c1.mark();
  c1.send({ type: 'cursor_moved', document_id: doc.id, cursor: 100 });
  await c1.waitFor((m) => m.type === 'evicted', undefined, from);
  from = c1.mark();
  c1.send(synth(doc.id, [3, 4], { cursor: 3 }));
  await c1.barrier();   /* every answer to the synthesize has arrived */
  const h2 = c1.history(doc.id, { from });
  assert.deepEqual([h2.get(3)[0].status, h2.get(4)[0].status], ['queued', 'queued']);
  // closing the socket releases what it still had queued
  c1.close();
  const c2 = await alice.ws();
  const { eventually } = await import('./harness.mjs');
  await eventually(async () => {
    const m = c2.mark();
    c2.send(synth(doc.id, [0, 1]));
    await c2.barrier();
    const hh = c2.history(doc.id, { from: m });
    if (hh.get(0).at(-1).status === 'queued' && hh.get(1).at(-1).status === 'queued') return true;
    c2.send({ type: 'cursor_moved', document_id: doc.id, cursor: 100 });   /* try again clean */
    await c2.barrier();
    return false;
  }, 'the closed socket\'s reservation to be released');
  assert.equal((await alice.me()).used_chars, 0, 'nothing was synthesized, nothing charged');
});

itest('voice previews are free of the quota, shared by every user, and still rate limited', async (t, h) => {
  const dir = await h.tmp();
  const A = { token: await addUser(dir, 'alice') };
  // a quota smaller than any preview sentence: a charged preview could never be answered
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth', '--quota-chars', '30', '--rate-blocks', '8'] });
  const alice = as(s, h, A);
  const { newGuest } = await import('./auth_harness.mjs');
  const guest = as(s, h, await newGuest(s));
  const syntheses = async () => {
    const r = await alice.get('/metrics');
    assert.equal(r.status, 200, r.text);
    return Number(r.text.match(/^recite_syntheses_total (\d+)$/m)[1]);
  };
  const previews = {};
  for (const v of ['en-us', 'de', 'fr-fr']) {
    const p = await alice.get(`/v1/models/espeak/voices/${v}/preview`);
    assert.equal(p.status, 200, `${v}: ${p.text}`);
    assert.ok(p.json.text.length > 30, 'the sentence is longer than the whole quota');
    assert.equal((await alice.get(p.json.audio_url)).status, 200);
    previews[v] = p.json;
  }
  assert.equal(await syntheses(), 3, 'one synthesis per voice');
  assert.equal((await alice.me()).used_chars, 0, 'previews cost nothing');
  // a guest previewing the same voice gets the same audio from the cache, also free
  const g = await guest.get('/v1/models/espeak/voices/de/preview');
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(g.json, previews.de);
  assert.equal(await syntheses(), 3, 'the second user\'s preview is a cache hit');
  assert.equal((await guest.me()).used_chars, 0);
  // no other text rides on the preview path: a query is ignored, the sentence is the server's
  const q = await alice.get('/v1/models/espeak/voices/en-us/preview?text=Read%20this%20for%20free%20please');
  assert.equal(q.status, 200, q.text);
  assert.deepEqual(q.json, previews['en-us']);
  // ...and the whole quota is still there for reading: any other text is charged
  const speech = (input) => alice.post('/v1/audio/speech', { json: { model: 'espeak', voice: 'en-us', input, response_format: 'opus' } });
  assert.equal((await speech('This sentence is thirty chars.')).status, 200);
  assert.equal((await alice.me()).used_chars, 30, 'the whole quota was left for reading');
  const over = await speech('Another text, past the quota.');
  assert.equal(over.status, 429, 'past the quota other text is refused');
  assert.match(over.json.error, /quota/);
  // a spent quota does not stop previews, but the per-user rate limit does (8 a minute:
  // 4 taken above; cached previews are fast, so at most a refill or two can slip in)
  let refused = null;
  for (let i = 0; i < 20 && !refused; i++) {
    const p = await alice.get('/v1/models/espeak/voices/fr-fr/preview');
    if (p.status === 429) refused = p;
    else assert.equal(p.status, 200, p.text);
  }
  assert.ok(refused, 'previews are counted by --rate-blocks');
  assert.match(refused.json.error, /retry in \d+ s/);
  assert.match(refused.headers.get('retry-after'), /^\d+$/);
  assert.equal((await guest.get('/v1/models/espeak/voices/fr-fr/preview')).status, 200, 'per user: the guest is not limited');
  assert.equal(await syntheses(), 4, 'previews 3 voices + 1 speech');
});
