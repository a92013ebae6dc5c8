// Accounts (SPEC section 7): two users and a guest on one `--auth` server. Isolation on
// every endpoint and WebSocket message (another user's document answers exactly like an
// unknown one), 401 for every bad credential, guests, and the metrics gate.
import assert from 'node:assert/strict';
import { itest, synth, range, paragraphs } from './harness.mjs';
import { addUser, userCmd, newGuest, as, upgradeStatus } from './auth_harness.mjs';

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

async function threeUsers(h, args = []) {
  const dir = await h.tmp();
  const alice = { token: await addUser(dir, 'alice') };
  const bob = { token: await addUser(dir, 'bob') };
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth', ...args] });
  const guest = await newGuest(s);
  return { s, dir, A: as(s, h, alice), B: as(s, h, bob), G: as(s, h, guest), alice, bob, guest };
}

itest('a user reaches only their own documents, over HTTP and WebSocket', async (t, h) => {
  const { A, B, G } = await threeUsers(h);
  const doc = await A.createDoc('# Alice only\n\nA private paragraph.\n\nAnother one.');
  const bdoc = await B.createDoc('Bob has his own.');
  await G.createDoc('A guest writes too.');

  // listing: each sees exactly their own
  const lists = await Promise.all([A, B, G].map((u) => u.get('/v1/documents')));
  assert.deepEqual(lists[0].json.map((d) => d.id), [doc.id]);
  assert.deepEqual(lists[1].json.map((d) => d.id), [bdoc.id]);
  assert.equal(lists[2].json.length, 1);

  // every document endpoint: another user's id answers exactly like an unknown id
  const calls = [
    ['GET', (id) => `/v1/documents/${id}`, undefined],
    ['PATCH', (id) => `/v1/documents/${id}/position`, { block_idx: 1 }],
    ['DELETE', (id) => `/v1/documents/${id}`, undefined],
  ];
  for (const other of [B, G]) {
    for (const [method, path, json] of calls) {
      const theirs = await other.http(method, path(doc.id), { json });
      const unknown = await other.http(method, path(UNKNOWN), { json });
      assert.equal(theirs.status, 404, `${method} ${path(doc.id)}`);
      assert.equal(theirs.text.replace(doc.id, 'ID'), unknown.text.replace(UNKNOWN, 'ID'));
    }
  }
  // alice's document is untouched by all that, and her position is hers
  const mine = await A.get(`/v1/documents/${doc.id}`);
  assert.equal(mine.status, 200);
  assert.equal(mine.json.last_block_idx, -1);
  assert.equal((await A.http('PATCH', `/v1/documents/${doc.id}/position`, { json: { block_idx: 1 } })).status, 200);
  assert.equal((await A.get('/v1/documents')).json[0].last_block_idx, 1);
  assert.equal((await B.get('/v1/documents')).json[0].last_block_idx, -1);

  // WebSocket: synthesize, cursor_moved and query_states on another user's document are
  // "unknown document"
  for (const other of [B, G]) {
    const c = await other.ws();
    for (const msg of [synth(doc.id, [0, 1]), { type: 'cursor_moved', document_id: doc.id, cursor: 0 },
      { type: 'query_states', document_id: doc.id, block_indices: [0, 1], model: 'espeak', voice: 'en-us' }]) {
      const from = c.mark();
      c.send(msg);
      const err = await c.waitFor((m) => m.type === 'error', undefined, from);
      c.send({ ...msg, document_id: UNKNOWN });
      const err2 = await c.waitFor((m) => m.type === 'error', undefined, from + 1);
      assert.equal(err.error, err2.error);
      assert.equal(c.statuses(doc.id, from).length, 0, 'no status for another user\'s blocks');
    }
  }
  // and alice plays her own
  const c = await A.ws();
  c.send(synth(doc.id, [0]));
  const h0 = await c.waitFinal(doc.id, [0]);
  assert.equal(h0.get(0).at(-1).status, 'cached');

  // deleting: only the owner can
  assert.equal((await A.http('DELETE', `/v1/documents/${doc.id}`)).status, 204);
  assert.equal((await B.http('DELETE', `/v1/documents/${bdoc.id}`)).status, 204);
});

itest('bad, missing, rotated and removed credentials get 401; open paths stay open', async (t, h) => {
  const { s, dir, A, alice, guest } = await threeUsers(h);
  const forged = { anonymous_id: guest.anonymous_id, anonymous_token: 'f'.repeat(64) };
  const nobody = as(s, h, {});
  const wrong = as(s, h, { token: `rct_${'0'.repeat(64)}` });
  const malformed = as(s, h, { token: 'hunter2' });
  const fakeGuest = as(s, h, forged);
  const refusals = [];
  for (const who of [nobody, wrong, malformed, fakeGuest]) {
    for (const path of ['/v1/documents', '/v1/models', '/v1/me', '/metrics', `/v1/audio/${'a'.repeat(64)}`]) {
      const r = await who.get(path);
      assert.equal(r.status, 401, `${path}: ${r.status}`);
      assert.match(r.headers.get('www-authenticate') || '', /Bearer/);
      refusals.push(r.text);
    }
    const post = await who.post('/v1/documents', { json: { content: 'x' } });
    assert.equal(post.status, 401);
    assert.equal(await upgradeStatus(s, who.wsPath), 401);
  }
  // one answer for all: nothing tells an unknown user from a malformed or missing token
  assert.equal(new Set(refusals).size, 1, [...new Set(refusals)].join('\n'));
  assert.equal((await nobody.get('/healthz')).status, 200);
  assert.equal((await nobody.get('/')).status, 200);
  // metrics: a user's token, not a guest's
  assert.equal((await A.get('/metrics')).status, 200);
  assert.equal((await as(s, h, guest).get('/metrics')).status, 401);

  // rotation: the old token stops at once, on the running server; the new one works, and
  // a socket opened with the old one is closed ("signed out")
  const before = await A.ws();
  const rot = await userCmd(dir, 'token', 'alice');
  assert.equal(rot.code, 0, rot.stderr);
  const fresh = as(s, h, { token: rot.stdout.trim() });
  assert.equal((await A.get('/v1/documents')).status, 401);
  assert.equal(await upgradeStatus(s, A.wsPath), 401);
  assert.equal((await fresh.get('/v1/documents')).status, 200);
  assert.equal(await upgradeStatus(s, fresh.wsPath), 101);
  const closed = await before.waitClose();
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /signed out/);
  await fresh.createDoc('Alice wrote this.');
  const during = await fresh.ws();

  // removal: the token stops and the documents go
  const rm = await userCmd(dir, 'remove', 'alice');
  assert.equal(rm.code, 0, rm.stderr);
  assert.match(rm.stdout, /removed alice and 1 document/);
  assert.equal((await fresh.get('/v1/documents')).status, 401);
  assert.equal(await upgradeStatus(s, fresh.wsPath), 401);
  assert.equal((await during.waitClose()).code, 1008);
  const list = await userCmd(dir, 'list');
  assert.doesNotMatch(list.stdout, /alice/);
  assert.match(list.stdout, /bob/);
  void alice;
});

itest('guests: created by POST, limited per address, refused with --guests off', async (t, h) => {
  const dir = await h.tmp();
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth', '--guest-rate', '2'] });
  const g1 = await newGuest(s);
  await newGuest(s);
  const third = await s.post('/v1/users/anonymous');
  assert.equal(third.status, 429);
  assert.match(third.json.error, /too many guests/);
  const G = as(s, h, g1);
  const me = await G.me();
  assert.equal(me.user, 'guest');
  assert.equal(me.guest, true);
  // the same guest works over HTTP (Bearer id:token) and the WebSocket (query)
  const d = await G.createDoc('Guest paragraph.');
  const c = await G.ws();
  c.send(synth(d.id, [0]));
  await c.waitFinal(d.id, [0]);
  // guests off: no new ones, and existing guest credentials no longer open anything
  await s.stop();
  const off = await h.start({ dataDir: dir, workers: 1, args: ['--auth', '--guests', 'off'] });
  const r = await off.post('/v1/users/anonymous');
  assert.equal(r.status, 403);
  assert.equal((await as(off, h, g1).get('/v1/documents')).status, 401);
  // the server secret survives restarts (guest tokens stay valid) and is private
  const on = await h.start({ dataDir: dir, workers: 1, args: ['--auth'] });
  assert.equal((await as(on, h, g1).get('/v1/documents')).json.length, 1);
  const { stat } = await import('node:fs/promises');
  assert.equal((await stat(`${dir}/secret`)).mode & 0o777, 0o600);
});

itest('--metrics-public opens /metrics, and without --auth nothing needs a token', async (t, h) => {
  const s = await h.start({ workers: 1, args: ['--auth', '--metrics-public'] });
  assert.equal((await s.get('/metrics')).status, 200);
  assert.equal((await s.get('/v1/documents')).status, 401);
  const plain = await h.start({ workers: 1 });
  assert.equal((await plain.get('/v1/documents')).status, 200);
  const me = await plain.get('/v1/me');
  assert.equal(me.status, 200);
  assert.equal(me.json.auth, false);
  assert.equal((await plain.post('/v1/users/anonymous')).status, 404);
});

// Fair share by user (the ordering style of order.test.mjs): one worker makes the order
// observable. Alice reads in six tabs, each with a long prefetch; Bob asks for two blocks
// in one tab. The queue alternates between users before it alternates between tabs, so
// Bob's two blocks run with at most one of Alice's between them (per tab, Alice's six tabs
// would each have had a turn first).
itest('fair share goes by user: six tabs of one user do not starve another user', async (t, h) => {
  const dir = await h.tmp();
  const alice = { token: await addUser(dir, 'alice') };
  const bob = { token: await addUser(dir, 'bob') };
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth'] });
  const A = as(s, h, alice);
  const B = as(s, h, bob);
  const tabs = [];
  for (let k = 0; k < 6; k++) {
    const d = await A.createDoc(paragraphs(8, `tab${k}`));
    const c = await A.ws();
    tabs.push({ c, d });
  }
  for (const { c, d } of tabs) c.send(synth(d.id, range(0, 8)));
  await tabs[0].c.waitFor((m) => m.status === 'cached', undefined, 0, 'alice\'s prefetch under way');
  const bdoc = await B.createDoc(paragraphs(2, 'bob'));
  const cb = await B.ws();
  const marks = tabs.map(({ c }) => c.mark());
  cb.send(synth(bdoc.id, [0, 1]));
  await cb.waitFinal(bdoc.id, [0, 1]);
  const started = tabs.reduce((n, { c, d }, k) =>
    n + c.statuses(d.id, marks[k]).filter((m) => m.status === 'processing').length, 0);
  // the job running when Bob asked, one of Alice's between Bob's two, and (a race) the
  // next one if Bob's last status is read after it started
  assert.ok(started <= 3, `${started} of alice's blocks started while bob waited for two`);
  const pending = tabs.reduce((n, { c, d }) =>
    n + [...c.history(d.id).values()].filter((l) => l.at(-1).status !== 'cached').length, 0);
  assert.ok(pending >= 30, `most of alice's prefetch was still waiting (${pending})`);
});
