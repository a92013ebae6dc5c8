// `make install` and the service (README, "Run it as a service"): installed into a DESTDIR,
// the binary finds the web player under share/recite/web and serves the page; the man page
// generated from --help is there; systemd-analyze accepts the unit (its ExecStart pointed at
// the DESTDIR binary); and options come from RECITE_* variables, the command line winning.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { itest, run, BIN } from './harness.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

itest('make install DESTDIR=...: the installed binary serves the page, with its man page and unit', async (t, h) => {
  const dest = await h.tmp();
  // BUILD: the directory of the binary under test (build/ or build-san/), already built
  const r = await run('make', ['-s', '-C', ROOT, 'install', `DESTDIR=${dest}`, `BUILD=${relative(ROOT, dirname(BIN))}`],
    { timeout: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const bin = join(dest, 'usr/local/bin/recite');
  assert.ok(existsSync(join(dest, 'usr/local/share/recite/web/index.html')));

  const s = await h.start({ bin, workers: 0 });
  const page = await s.get('/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.equal((page.text.match(/<audio\b/g) || []).length, 1);

  const man = readFileSync(join(dest, 'usr/local/share/man/man1/recite.1'), 'utf8');
  assert.match(man, /^\.TH RECITE 1/);
  for (const needle of ['\\-\\-max\\-body\\-mb', '.SS serve', '.SS say', 'RECITE_PORT'])
    assert.ok(man.includes(needle), `the man page has ${needle}`);

  const unit = readFileSync(join(dest, 'usr/local/lib/systemd/system/recite.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/recite serve$/m);
  for (const k of ['User=recite', 'StateDirectory=recite', 'ProtectSystem=strict', 'NoNewPrivileges=yes'])
    assert.ok(unit.includes(k), k);
  assert.ok(existsSync(join(dest, 'usr/local/lib/sysusers.d/recite.conf')));
  const probe = join(dest, 'recite.service');
  writeFileSync(probe, unit.replace('/usr/local/bin/recite', bin));
  // --man=no: the man page is checked above (a minimal system may have no man(1) to ask)
  const v = await run('systemd-analyze', ['verify', '--man=no', probe],
    { env: { MANPATH: join(dest, 'usr/local/share/man') } });
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stderr.trim(), '', 'systemd-analyze has no complaint');
});

itest('every option can come from a RECITE_* variable; the command line wins', async (t, h) => {
  const big = JSON.stringify({ content: 'x '.repeat(600_000), format: 'text' });   // ~1.2 MB
  const s = await h.start({ workers: 0, env: { RECITE_MAX_BODY_MB: '1', RECITE_HOT_CACHE_MB: '1' } });
  const r = await s.post('/v1/documents', { body: big, headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 413, 'RECITE_MAX_BODY_MB=1 is in force');
  const s2 = await h.start({ workers: 0, env: { RECITE_MAX_BODY_MB: '1' }, args: ['--max-body-mb', '2'] });
  const r2 = await s2.post('/v1/documents', { body: big, headers: { 'content-type': 'application/json' } });
  assert.equal(r2.status, 201, 'the command line wins');

  const bad = await run(BIN, ['serve'], { env: { RECITE_PORT: 'eighty' } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /RECITE_PORT needs a non-negative integer, got 'eighty'/);
});
