// `recite export` as an audiobook (issue 13): a document's chapter headings become chapter
// marks — .m4b (AAC in MP4), .mp3 (ID3v2 CHAP) and .ogg (Opus CHAPTERnnn comments) — with the
// title and author; ffprobe -show_chapters reads them, and the files decode. An EPUB given as
// a file exports with its book title and author.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { itest, run, BIN, probe, decodes } from './harness.mjs';
import { makeEpub } from './import-fixtures.mjs';

const BOOK = '# The Small Book\n\nA few words before the chapters.\n\n' +
  '## Chapter One\n\nThe first chapter speaks one sentence.\n\n' +
  '## Chapter Two\n\nThe second chapter speaks two. Here is the second.\n\n' +
  '## Chapter Three\n\nThe end.\n';

async function chaptersOf(file) {
  const r = await run('ffprobe', ['-v', 'error', '-show_chapters', '-show_entries', 'format=duration:format_tags:stream_tags', '-of', 'json', file]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  // Ogg keeps its comments on the stream, MP4 and MP3 on the file
  const all = { ...(j.streams?.[0]?.tags || {}), ...(j.format?.tags || {}) };
  const tags = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v]));
  return { chapters: j.chapters.map((c) => ({ title: c.tags?.title, start: Number(c.start_time), end: Number(c.end_time) })),
    duration: Number(j.format.duration), tags };
}

itest('export to .m4b, .mp3 and .ogg marks one chapter per chapter heading', async (t, h) => {
  const dir = await h.tmp();
  const src = join(dir, 'book.md');
  writeFileSync(src, BOOK);
  const found = {};
  for (const ext of ['m4b', 'mp3', 'ogg']) {
    const out = join(dir, `book.${ext}`);
    const r = await run(BIN, ['export', src, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /4 chapters/);
    assert.ok(await decodes(out), `${ext} decodes`);
    const { chapters, duration, tags } = await chaptersOf(out);
    assert.deepEqual(chapters.map((c) => c.title), ['The Small Book', 'Chapter One', 'Chapter Two', 'Chapter Three'], ext);
    assert.equal(chapters[0].start, 0);
    for (let i = 1; i < chapters.length; i++) {
      assert.ok(chapters[i].start > chapters[i - 1].start, `${ext}: chapters in order`);
      assert.equal(chapters[i].start, chapters[i - 1].end, `${ext}: chapters are contiguous`);
    }
    assert.ok(Math.abs(chapters.at(-1).end - duration) < 0.2, `${ext}: the last chapter ends with the audio`);
    assert.equal(tags.title, 'The Small Book', ext);
    found[ext] = chapters;
  }
  assert.equal((await probe(join(dir, 'book.m4b'))).codec, 'aac');
  assert.equal((await probe(join(dir, 'book.mp3'))).codec, 'mp3');
  assert.equal((await probe(join(dir, 'book.ogg'))).codec, 'opus');
  // the same text each time: the marks fall at the same places (espeak varies by a few ms)
  for (let i = 1; i < 4; i++)
    assert.ok(Math.abs(found.m4b[i].start - found.ogg[i].start) < 0.1, `chapter ${i}: m4b and ogg agree`);
});

itest('an EPUB exports as a book with its title and author', async (t, h) => {
  const dir = await h.tmp();
  const src = join(dir, 'tale.epub');
  writeFileSync(src, makeEpub({ title: 'A Short Tale', author: 'Ann Author', chapters: [
    { title: 'Morning', body: '<h1>Morning</h1><p>The sun came up.</p>' },
    { title: 'Evening', body: '<h1>Evening</h1><p>The sun went down.</p>' },
  ] }));
  const out = join(dir, 'tale.m4b');
  const r = await run(BIN, ['export', src, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const { chapters, tags } = await chaptersOf(out);
  assert.deepEqual(chapters.map((c) => c.title), ['A Short Tale', 'Morning', 'Evening']);
  assert.equal(tags.title, 'A Short Tale');
  assert.equal(tags.artist, 'Ann Author');
  // .wav has no chapters: the plain streamed export
  const wav = await run(BIN, ['export', src, '-o', join(dir, 'tale.wav')]);
  assert.equal(wav.code, 0, wav.stderr);
  assert.doesNotMatch(wav.stderr, /chapters/);
});
