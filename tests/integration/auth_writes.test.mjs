// Accounts' store writes never hold up the service thread (issue 15): while another process
// holds the database's write lock, a new guest waits for it on the writer thread and the
// server goes on answering everyone else — before, the service thread itself waited in
// SQLite's busy timeout (5 s) and every client with it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { itest } from './harness.mjs';
import { addUser, as, newGuest } from './auth_harness.mjs';

/** `sqlite3` holding recite.db's write lock (BEGIN IMMEDIATE) until release() commits. */
async function holdWriteLock(dataDir) {
  const p = spawn('sqlite3', [join(dataDir, 'recite.db')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const locked = new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => { out += d; if (out.includes('locked')) resolve(); });
    p.on('exit', (code) => reject(new Error(`sqlite3 exited (${code}) before taking the lock`)));
  });
  p.stdin.write("PRAGMA busy_timeout = 10000;\nBEGIN IMMEDIATE;\nUPDATE users SET last_seen = last_seen;\nSELECT 'locked';\n");
  await locked;
  const exited = new Promise((resolve) => p.on('exit', resolve));
  return {
    async release() {
      p.stdin.end('COMMIT;\n');
      await exited;
    },
  };
}

itest('a new guest waits for the write lock on the writer thread; everyone else is answered meanwhile', async (t, h) => {
  const dir = await h.tmp();
  const token = await addUser(dir, 'bob');
  const s = await h.start({ dataDir: dir, workers: 1, args: ['--auth'] });
  const A = as(s, h, { token });
  const lock = await holdWriteLock(dir);
  let guestDone = false;
  const guest = s.post('/v1/users/anonymous').then((r) => { guestDone = true; return r; });
  try {
    // the loop answers while the guest's INSERT waits for the lock
    const health = await s.http('GET', '/healthz');
    assert.equal(health.status, 200);
    const me = await A.http('GET', '/v1/me');
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.user, 'bob');
    const list = await A.http('GET', '/v1/documents');
    assert.equal(list.status, 200);
    assert.equal(guestDone, false, 'the guest was answered while the database was write-locked');
  } finally {
    await lock.release();
  }
  const r = await guest;
  assert.equal(r.status, 201, r.text);
  const G = as(s, h, r.json);
  assert.equal((await G.http('GET', '/v1/documents')).status, 200, 'the new guest is known');
  await newGuest(s);   // and the writer goes on
});
