// The command line (SPEC section 1): help, bad flags (exit 2, usage on stderr), `voices`,
// and `say` writing real audio in the format its extension names.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readFile, rm } from 'node:fs/promises';
import { BIN, run, probe, decodes, makeTempDir, itest } from './harness.mjs';

const recite = (args, opts) => run(BIN, args, opts);

let dir;
test.before(async () => { dir = await makeTempDir('recite-cli-'); });
test.after(async () => { await rm(dir, { recursive: true, force: true }); });

test('--help shows the commands and exits 0', async () => {
  const r = await recite(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const cmd of ['serve', 'worker', 'say', 'export', 'voices']) assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`));
  for (const cmd of ['serve', 'worker', 'say', 'export', 'voices']) {
    const c = await recite([cmd, '--help']);
    assert.equal(c.code, 0, `${cmd} --help: ${c.stderr}`);
    assert.match(c.stdout, /usage/i, `${cmd} --help prints usage`);
  }
  const serve = await recite(['serve', '--help']);
  for (const flag of ['--port', '--host', '--data', '--workers', '--redis', '--buffer-behind', '--buffer-ahead'])
    assert.ok(serve.stdout.includes(flag), `serve --help mentions ${flag}`);
});

test('bad flags and commands exit 2 with usage on stderr', async () => {
  for (const args of [['serve', '--bogus'], ['serve', '--port', 'abc'], ['serve', '--port', '70000'],
    ['serve', '--workers'], ['say', '--no-such-flag', '-o', join(dir, 'x.ogg'), 'hi'], ['frobnicate'], []]) {
    const r = await recite(args);
    assert.equal(r.code, 2, `recite ${args.join(' ')}: exit ${r.code}`);
    assert.match(r.stderr, /usage/i, `recite ${args.join(' ')}: usage on stderr`);
    assert.equal(r.stdout, '', `recite ${args.join(' ')}: nothing on stdout`);
  }
});

test('voices lists en-us with its language', async () => {
  const r = await recite(['voices']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length > 10, 'espeak-ng ships many voices');
  const en = lines.find((l) => /^espeak\s+en-us\s/.test(l));
  assert.ok(en, `an "espeak en-us ..." line in:\n${lines.slice(0, 5).join('\n')}`);
  assert.match(en, /^espeak\s+en-us\s+en\S*\s+\S/, 'model, voice, language, name');
  assert.ok(lines.some((l) => /^espeak\s+de\s+de/.test(l)), 'German too');
});

test('say writes Ogg Opus, WAV and MP3 by extension', async () => {
  const expect = { ogg: 'opus', wav: /^pcm_/, mp3: 'mp3' };
  const durations = {};
  for (const [ext, codec] of Object.entries(expect)) {
    const out = join(dir, `hello.${ext}`);
    const r = await recite(['say', '-o', out, 'Hello, this is recite speaking.']);
    assert.equal(r.code, 0, `say .${ext}: ${r.stderr}`);
    assert.ok(existsSync(out), `${out} written`);
    const p = await probe(out);
    if (codec instanceof RegExp) assert.match(p.codec, codec, ext);
    else assert.equal(p.codec, codec, ext);
    assert.equal(p.channels, 1, `${ext} is mono`);
    assert.ok(p.duration_s > 1 && p.duration_s < 10, `${ext}: ${p.duration_s} s for one sentence`);
    assert.ok(await decodes(out), `${ext} decodes`);
    durations[ext] = p.duration_s;
  }
  // the same text in every format lasts the same (MP3 adds at most a frame or two of padding)
  assert.ok(Math.abs(durations.ogg - durations.wav) < 0.06, JSON.stringify(durations));
  assert.ok(Math.abs(durations.mp3 - durations.wav) < 0.1, JSON.stringify(durations));
});

test('say reads the text from stdin, and honours --voice', async () => {
  const short = join(dir, 'short.ogg');
  const long = join(dir, 'long.ogg');
  assert.equal((await recite(['say', '-o', short], { input: 'Hi.\n' })).code, 0);
  const r = await recite(['say', '-o', long], {
    input: 'This sentence came in on standard input, and it is quite a bit longer than the other one.\n',
  });
  assert.equal(r.code, 0, r.stderr);
  const [ps, pl] = [await probe(short), await probe(long)];
  assert.equal(pl.codec, 'opus');
  assert.ok(pl.duration_s > ps.duration_s + 1, `the longer text is longer: ${ps.duration_s} s vs ${pl.duration_s} s`);

  const de = join(dir, 'de.ogg');
  const rd = await recite(['say', '--voice', 'de', '-o', de, 'Guten Morgen.']);
  assert.equal(rd.code, 0, rd.stderr);
  assert.ok(await decodes(de));
  const en = join(dir, 'en.ogg');
  assert.equal((await recite(['say', '--voice', 'en-us', '-o', en, 'Guten Morgen.'])).code, 0);
  assert.notDeepEqual(await readFile(de), await readFile(en), 'another voice, other audio');
});

test('say refuses what it cannot do, without writing a file', async () => {
  const cases = [
    [['say', '-o', join(dir, 'a.txt'), 'hello'], join(dir, 'a.txt')],
    [['say', '--voice', 'xx-nowhere', '-o', join(dir, 'b.ogg'), 'hello'], join(dir, 'b.ogg')],
    [['say', '--model', 'nope', '-o', join(dir, 'c.ogg'), 'hello'], join(dir, 'c.ogg')],
    [['say', 'hello'], null],
  ];
  for (const [args, file] of cases) {
    const r = await recite(args);
    assert.notEqual(r.code, 0, `recite ${args.join(' ')} must fail`);
    assert.ok(r.stderr.trim().length > 0, `recite ${args.join(' ')} says why`);
    if (file) assert.ok(!existsSync(file), `${file} not written`);
  }
  const empty = await recite(['say', '-o', join(dir, 'e.ogg')], { input: '  \n' });
  assert.notEqual(empty.code, 0, 'no text is an error');
});

itest('serve without --workers runs one synthesis worker per CPU core, and says so', async (t, h) => {
  const cores = Number((await run('getconf', ['_NPROCESSORS_ONLN'])).stdout.trim());
  assert.ok(cores >= 1, 'getconf reports the online cores');
  const want = Math.min(cores, 32);
  const s = await h.start();   // no --workers
  assert.match(s.log, new RegExp(`\\b${want} synthesis worker threads? in this process`));
  const help = await recite(['serve', '--help']);
  assert.match(help.stdout, /--workers N .*one per CPU core/);
  // an explicit value still wins
  const one = await h.start({ workers: 1 });
  assert.match(one.log, /\b1 synthesis worker thread in this process/);
});

test('voices, say and export keep the engines\' start-up chatter off stderr', async () => {
  const v = await recite(['voices']);
  assert.equal(v.code, 0);
  assert.doesNotMatch(v.stderr, /\[info\]/, v.stderr);
  const out = join(dir, 'quiet.wav');
  const s = await recite(['say', '-o', out, 'Quiet please.']);
  assert.equal(s.code, 0, s.stderr);
  assert.doesNotMatch(s.stderr, /\[info\]/, s.stderr);
  assert.match(s.stderr, /quiet\.wav: [\d.]+ s of audio/, 'the result line stays');
});
