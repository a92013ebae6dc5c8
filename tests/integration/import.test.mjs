// Importing PDF and EPUB files by multipart upload (issue 13): the spoken blocks equal the
// expected text (two columns in order, running heads and page numbers dropped, hyphenation
// joined, a paragraph carried over a page break; the book's title and chapter titles as
// headings, footnote markers not spoken); a password-protected, a damaged and a scanned PDF,
// a zip bomb and a non-EPUB are each a 422 with a message, and nothing is stored.
import assert from 'node:assert/strict';
import { itest } from './harness.mjs';
import { makePdf, makeEpub, makeZip } from './import-fixtures.mjs';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

function upload(s, bytes, name) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  return s.post('/v1/documents', { body: form });
}

const head = (n) => [{ x: 50, y: 30, size: 9, text: 'Proceedings of Testing 2026' },
  { x: 290, y: 815, size: 9, text: `- ${n} -` }];

const twoColumnPdf = () => makePdf([
  [...head(1), { x: 50, y: 80, size: 18, text: 'Two Columns' },
    { x: 50, y: 120, text: 'The left column starts the story and its' },
    { x: 50, y: 132, text: 'first line runs on to a second, where a' },
    { x: 50, y: 144, text: 'word is broken by a hyphen at the mar-' },
    { x: 50, y: 156, text: 'gin and then carries on in the right' },
    { x: 315, y: 120, text: 'column without a pause at all.' },
    { x: 315, y: 144, text: 'Then a paragraph that goes over the' },
    { x: 315, y: 156, text: 'page break and ends on the next' }],
  [...head(2), { x: 50, y: 120, text: 'page where it is finished.' },
    { x: 50, y: 144, text: 'A last short paragraph.' }],
]);

itest('a two-column PDF upload reads in order without running heads or page numbers', async (t, h) => {
  const s = await h.start();
  const r = await upload(s, twoColumnPdf(), 'paper.pdf');
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.title, 'Two Columns');
  const doc = await s.getDoc(r.json.id);
  assert.deepEqual(doc.blocks.map((b) => b.text), [
    'Two Columns',
    'The left column starts the story and its first line runs on to a second, where a word ' +
      'is broken by a hyphen at the margin and then carries on in the right column without a pause at all.',
    'Then a paragraph that goes over the page break and ends on the next page where it is finished.',
    'A last short paragraph.',
  ]);
  assert.match(doc.html, /<h1><span data-block-idx="0">Two Columns<\/span><\/h1>/);
  assert.doesNotMatch(doc.html, /Proceedings/);
});

itest('an EPUB upload reads its spine in order with the book and chapter titles as headings', async (t, h) => {
  const s = await h.start();
  const epub = makeEpub({
    title: 'A Small Book',
    chapters: [
      { title: 'Opening', body: '<h1>The Beginning</h1><p>It starts here<a epub:type="noteref" href="#n1">1</a>.</p>' },
      { title: 'The Middle Part', body: '<p>No heading in this file<sup><a href="notes.xhtml#n2">2</a></sup>, ' +
        'so the contents name it.</p><aside epub:type="footnote" id="n1"><p>A footnote.</p></aside>' },
    ],
  });
  const r = await upload(s, epub, 'book.epub');
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.title, 'A Small Book');
  const doc = await s.getDoc(r.json.id);
  assert.deepEqual(doc.blocks.map((b) => b.text), [
    'A Small Book', 'The Beginning', 'It starts here.', 'The Middle Part',
    'No heading in this file, so the contents name it.',
  ]);
  assert.match(doc.html, /<h1><span data-block-idx="0">/);
  assert.match(doc.html, /<h2><span data-block-idx="1">/);
  assert.match(doc.html, /<h2><span data-block-idx="3">/);
});

itest('unreadable PDFs and EPUBs are 422 with a reason, and nothing is stored', async (t, h) => {
  const s = await h.start();
  const cases = [
    [makePdf([[{ x: 50, y: 100, text: 'Secret.' }]], { encrypt: true }), 'locked.pdf', /password/],
    [Buffer.from('%PDF-1.4\n1 0 obj << /Type /Cat'), 'broken.pdf', /not a readable PDF/],
    [makePdf([[]]), 'scan.pdf', /no text layer/],
    [Buffer.from('PK\x03\x04 but not really a zip'), 'bad.epub', /EPUB/],
    [makeZip([{ name: 'mimetype', data: 'application/epub+zip' }]), 'empty.epub', /container\.xml/],
    // 64 MiB of one letter deflate to ~64 KiB
    [makeEpub({ title: 'Bomb', chapters: [{ title: 'x', body: '<p>x</p>' }],
      extra: [{ name: 'OEBPS/ch0.xhtml', data: Buffer.alloc(64 << 20, 0x61), deflate: true }] }),
    'bomb.epub', /zip bomb/],
  ];
  for (const [bytes, name, re] of cases) {
    const r = await upload(s, bytes, name);
    assert.equal(r.status, 422, `${name}: ${r.status} ${r.text}`);
    assert.match(r.json.error, re, name);
  }
  assert.deepEqual((await s.get('/v1/documents')).json, [], 'nothing was stored');
  assert.equal((await s.get('/healthz')).status, 200);
});

const peakRssKiB = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)[1]);

itest('a 50 MiB book uploads with --max-body-mb 64, spooled to disk rather than held in memory', async (t, h) => {
  const s = await h.start({ args: ['--max-body-mb', '64'] });
  const epub = makeEpub({
    title: 'A Heavy Book',
    chapters: [{ title: 'Only', body: '<h1>The Only Chapter</h1><p>Pictures make this book heavy.</p>' }],
    extra: [{ name: 'OEBPS/images/plates.jpg', data: randomBytes(50 << 20) }],   // stored, not deflated
  });
  assert.ok(epub.length > 50 << 20);
  await s.createDoc('Warm up the server.', 'text');
  const before = peakRssKiB(s.proc.pid);
  const r = await upload(s, epub, 'heavy.epub');
  assert.equal(r.status, 201, r.text);
  assert.deepEqual((await s.getDoc(r.json.id)).blocks.map((b) => b.text),
    ['A Heavy Book', 'The Only Chapter', 'Pictures make this book heavy.']);
  const grown = (peakRssKiB(s.proc.pid) - before) / 1024;
  assert.ok(grown < 40, `the server's peak memory grew by ${grown.toFixed(1)} MiB for a 50 MiB upload`);
});
