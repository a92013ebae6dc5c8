// Documents over HTTP (SPEC sections 2 and 3): create from text, markdown, HTML and an
// uploaded file; list, read, remember the position, delete; every bad request is a 4xx
// with {"error": ...}; plus /healthz, /metrics and /v1/models.
import assert from 'node:assert/strict';
import net from 'node:net';
import { itest } from './harness.mjs';

const blockIdxs = (html) => [...html.matchAll(/data-block-idx="(\d+)"/g)].map((m) => Number(m[1]));

function assertError(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /application\/json/);
  assert.equal(typeof r.json?.error, 'string', `error body: ${r.text}`);
  assert.ok(r.json.error.length > 0);
}

function assertDocShape(d) {
  assert.equal(typeof d.id, 'string');
  assert.ok(d.id.length > 0);
  assert.equal(typeof d.title, 'string');
  assert.ok(Number.isInteger(d.block_count));
}

itest('creates documents from text, markdown and html, and reads them back block by block', async (t, h) => {
  const s = await h.start();

  const md = await s.createDoc(
    '# Field Notes\n\nThe *quick* brown fox.\n\n- first item\n- second item\n\n' +
    '```\nprint_hidden_code()\n```\n\n| a | b |\n|---|---|\n| tablecell | x |\n\nLast words here.',
    'markdown');
  assertDocShape(md);
  assert.equal(md.title, 'Field Notes', 'the title of a markdown document is its first heading');
  // heading, paragraph, two list items, last paragraph; code and tables are shown, not spoken
  assert.equal(md.block_count, 5);

  const doc = await s.getDoc(md.id);
  assert.equal(doc.id, md.id);
  assert.equal(doc.block_count, 5);
  assert.deepEqual(doc.blocks.map((b) => b.idx), [0, 1, 2, 3, 4]);
  assert.deepEqual(doc.blocks.map((b) => b.text),
    ['Field Notes', 'The quick brown fox.', 'first item', 'second item', 'Last words here.']);
  for (const b of doc.blocks) assert.ok(Number.isInteger(b.est_duration_ms) && b.est_duration_ms > 0, JSON.stringify(b));
  assert.deepEqual([...new Set(blockIdxs(doc.html))].sort((a, b) => a - b), [0, 1, 2, 3, 4],
    'every block is wrapped in an element carrying data-block-idx');
  assert.match(doc.html, /<em>quick<\/em>/, 'markdown emphasis is rendered');
  assert.match(doc.html, /print_hidden_code\(\)/, 'code is displayed');
  assert.match(doc.html, /tablecell/, 'tables are displayed');
  for (const b of doc.blocks) {
    assert.doesNotMatch(b.text, /hidden|tablecell/, 'code and tables are not spoken');
  }

  const txt = await s.createDoc('Plain first paragraph here.\n\nSecond one.', 'text');
  assertDocShape(txt);
  assert.ok(txt.title.startsWith('Plain first'), `title from the first words, got "${txt.title}"`);
  assert.equal(txt.block_count, 2);
  const tdoc = await s.getDoc(txt.id);
  assert.deepEqual(tdoc.blocks.map((b) => b.text), ['Plain first paragraph here.', 'Second one.']);

  const html = await s.createDoc(
    '<!doctype html><html><head><title>Page</title><script>var secret = 1;</script></head>' +
    '<body><nav><a href="/">Home menu</a></nav><main><h1>Article Heading</h1>' +
    '<p>Body text of the page.</p></main><footer>Copyright footer</footer></body></html>', 'html');
  assertDocShape(html);
  const hdoc = await s.getDoc(html.id);
  const spoken = hdoc.blocks.map((b) => b.text);
  assert.deepEqual(spoken, ['Article Heading', 'Body text of the page.'], 'HTML: main text only');
  assert.doesNotMatch(hdoc.html, /secret|Home menu/);

  const titled = await s.createDoc('Some content.', 'text', 'My Own Title');
  assert.equal(titled.title, 'My Own Title', 'a given title wins');
});

itest('a long paragraph is split into pieces that join back to the source', async (t, h) => {
  const s = await h.start();
  const sentences = Array.from({ length: 14 }, (_, i) => `Sentence number ${i} of this rather long paragraph ends here.`);
  const longSentence = 'Then comes one sentence with no full stop for a very long while, which keeps going ' +
    'past every sensible length; it lists harbours, lighthouses, keepers and their logbooks, ' +
    'the tides and the weather and the ships that passed in the night, the lamps and the oil, ' +
    'the gulls over the rocks and the seals on the sandbar, the long winter evenings by the stove, ' +
    'and only after all of that does it finally come to its end.';
  assert.ok(longSentence.length > 325);
  const para = sentences.join(' ') + ' ' + longSentence;
  const d = await s.createDoc(`# Title\n\n${para}\n\nShort tail.`, 'markdown');
  const doc = await s.getDoc(d.id);
  const pieces = doc.blocks.slice(1, -1).map((b) => b.text);
  assert.equal(pieces.join(''), para, 'no text lost or duplicated, whitespace kept');
  const sentenceParts = pieces.filter((p) => !longSentence.includes(p.trim()));
  const longParts = pieces.filter((p) => longSentence.includes(p.trim()));
  assert.equal(sentenceParts.length + longParts.length, pieces.length, `pieces: ${JSON.stringify(pieces)}`);
  assert.ok(sentenceParts.length >= 3, 'the 14 short sentences are packed into a few pieces');
  for (const p of sentenceParts) {
    assert.ok(p.length <= 250, `packed up to 250 characters: ${p.length}`);
    assert.match(p.trim(), /here\.$/, `split at a sentence end: "${p}"`);
  }
  assert.ok(sentenceParts.slice(0, -1).every((p) => p.length > 180), 'packed, not one sentence per piece');
  assert.ok(longParts.length >= 2, 'the sentence over 325 characters is split too');
  for (const p of longParts) {
    assert.ok(p.trim().length >= 40 && p.trim().length <= 325, `piece of ${p.trim().length}: "${p}"`);
  }
  for (const p of longParts.slice(0, -1)) assert.match(p.trimEnd(), /[,;:—]$/, `split at a pause: "${p}"`);
  assert.equal(doc.blocks.at(-1).text, 'Short tail.');
  assert.deepEqual([...new Set(blockIdxs(doc.html))].length, doc.block_count);
});

itest('markdown raw HTML is never passed through unescaped', async (t, h) => {
  const s = await h.start();
  const d = await s.createDoc(
    'Before.\n\n<script>alert("x")</script>\n\nInline <script>alert(2)</script> and ' +
    '<img src=x onerror="alert(3)"> here.\n\n[link](javascript:alert(4))', 'markdown');
  const doc = await s.getDoc(d.id);
  assert.doesNotMatch(doc.html, /<script/i, 'no live <script> element');
  assert.doesNotMatch(doc.html, /<img[^>]*onerror/i, 'no live event handler attribute');
  assert.doesNotMatch(doc.html, /href\s*=\s*"?\s*javascript:/i, 'no javascript: link');
  for (const b of doc.blocks) assert.doesNotMatch(b.text, /<script/i);
});

itest('multipart upload of a .md file is rendered as markdown', async (t, h) => {
  const s = await h.start();
  const form = new FormData();
  form.append('file', new Blob(['# Uploaded Notes\n\nSome **bold** text.\n\nMore.'], { type: 'application/octet-stream' }), 'notes.md');
  const r = await s.post('/v1/documents', { body: form });
  assert.equal(r.status, 201, r.text);
  assertDocShape(r.json);
  assert.equal(r.json.title, 'Uploaded Notes');
  assert.equal(r.json.block_count, 3);
  const doc = await s.getDoc(r.json.id);
  assert.deepEqual(doc.blocks.map((b) => b.text), ['Uploaded Notes', 'Some bold text.', 'More.']);
  assert.match(doc.html, /<strong>bold<\/strong>/);

  // the format and title can be given as form fields; .html by extension is HTML
  const named = new FormData();
  named.append('title', 'Given Title');
  named.append('format', 'markdown');
  named.append('file', new Blob(['Plain *name* but markdown.']), 'notes.txt');
  const rn = await s.post('/v1/documents', { body: named });
  assert.equal(rn.status, 201, rn.text);
  assert.equal(rn.json.title, 'Given Title');
  assert.match((await s.getDoc(rn.json.id)).html, /<em>name<\/em>/);

  const page = new FormData();
  page.append('file', new Blob(['<html><body><main><p>From a web page.</p><script>x()</script></main></body></html>'], { type: 'text/html' }), 'page.html');
  const rp = await s.post('/v1/documents', { body: page });
  assert.equal(rp.status, 201, rp.text);
  assert.deepEqual((await s.getDoc(rp.json.id)).blocks.map((b) => b.text), ['From a web page.']);

  // a bigger file arrives whole (it is delivered to the server in many pieces)
  const many = Array.from({ length: 3000 }, (_, i) => `Paragraph ${i} of the big upload.`).join('\n\n');
  const bigForm = new FormData();
  bigForm.append('file', new Blob([many]), 'big.md');
  const rb = await s.post('/v1/documents', { body: bigForm });
  assert.equal(rb.status, 201, rb.text);
  assert.equal(rb.json.block_count, 3000);
  const bigDoc = await s.getDoc(rb.json.id);
  assert.equal(bigDoc.blocks[2999].text, 'Paragraph 2999 of the big upload.');

  const bad = new FormData();
  bad.append('file', new Blob([Buffer.from([0x48, 0x69, 0x20, 0xff, 0xfe, 0x21])]), 'bad.txt');
  assertError(await s.post('/v1/documents', { body: bad }), 400);

  const none = new FormData();
  none.append('title', 'no file');
  assertError(await s.post('/v1/documents', { body: none }), 400);
});

itest('the library lists documents newest first and remembers the reading position', async (t, h) => {
  const s = await h.start();
  const empty = await s.get('/v1/documents');
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.json, []);

  const a = await s.createDoc('Alpha one.\n\nAlpha two.\n\nAlpha three.', 'markdown', 'A');
  const b = await s.createDoc('Beta.', 'markdown', 'B');
  const c = await s.createDoc('Gamma.', 'markdown', 'C');
  const list = (await s.get('/v1/documents')).json;
  assert.deepEqual(list.map((d) => d.id), [c.id, b.id, a.id], 'newest first');
  for (const d of list) {
    assertDocShape(d);
    assert.ok(Number.isFinite(d.created_at));
    assert.ok('last_block_idx' in d);
  }
  assert.equal(list[2].title, 'A');
  assert.equal(list[2].block_count, 3);

  const p = await s.http('PATCH', `/v1/documents/${a.id}/position`, { json: { block_idx: 2 } });
  assert.ok(p.status >= 200 && p.status < 300, `PATCH position: ${p.status} ${p.text}`);
  const after = (await s.get('/v1/documents')).json;
  assert.equal(after.find((d) => d.id === a.id).last_block_idx, 2);
  assert.equal((await s.getDoc(a.id)).last_block_idx, 2);

  assertError(await s.http('PATCH', `/v1/documents/${a.id}/position`, { json: { block_idx: 3 } }), 400);
  assertError(await s.http('PATCH', `/v1/documents/${a.id}/position`, { json: { block_idx: -1 } }), 400);
  assertError(await s.http('PATCH', `/v1/documents/${a.id}/position`, { json: { block_idx: 'x' } }), 400);
  assertError(await s.http('PATCH', `/v1/documents/${a.id}/position`, { body: '{oops', headers: { 'content-type': 'application/json' } }), 400);
  assert.equal((await s.getDoc(a.id)).last_block_idx, 2, 'a rejected PATCH changes nothing');
  assertError(await s.http('PATCH', '/v1/documents/00000000-0000-4000-8000-000000000000/position', { json: { block_idx: 0 } }), 404);
});

itest('DELETE removes a document; unknown ids are 404', async (t, h) => {
  const s = await h.start();
  const d = await s.createDoc('To be deleted.', 'text');
  const keep = await s.createDoc('To be kept.', 'text');
  const del = await s.http('DELETE', `/v1/documents/${d.id}`);
  assert.equal(del.status, 204);
  assert.equal(del.body.length, 0);
  assertError(await s.get(`/v1/documents/${d.id}`), 404);
  assertError(await s.http('DELETE', `/v1/documents/${d.id}`), 404);
  assert.deepEqual((await s.get('/v1/documents')).json.map((x) => x.id), [keep.id]);

  assertError(await s.get('/v1/documents/6f1c0d8e-3b1a-4c2e-9d7f-0123456789ab'), 404);
  assertError(await s.get('/v1/documents/not-an-id'), 404);
});

itest('bad document bodies are 400 with a JSON error', async (t, h) => {
  const s = await h.start();
  const post = (body) => s.post('/v1/documents', { body, headers: { 'content-type': 'application/json' } });
  assertError(await post('{"content": "unterminated'), 400);
  assertError(await post('[1, 2, 3]'), 400);
  assertError(await post(JSON.stringify({ content: 42, format: 'text' })), 400);
  assertError(await post(JSON.stringify({ format: 'text' })), 400);
  assertError(await post(JSON.stringify({ content: 'Hello.', format: 'pdf' })), 400);
  assertError(await post(JSON.stringify({ content: '   \n\t ', format: 'text' })), 400);
  // raw bytes 0xff 0xfe inside the JSON string: not UTF-8
  for (const format of ['text', 'markdown', 'html']) {
    const raw = Buffer.concat([Buffer.from('{"content": "Hello '), Buffer.from([0xff, 0xfe]),
      Buffer.from(` world.", "format": "${format}"}`)]);
    assertError(await post(raw), 400);
  }
  // a lone surrogate escape is not a character either
  assertError(await post('{"content": "bad \\ud800 text", "format": "text"}'), 400);
  assert.deepEqual((await s.get('/v1/documents')).json, [], 'nothing was stored');
});

itest('an unknown format is named in the error message', async (t, h) => {
  const s = await h.start();
  for (const format of ['pdf', 'docx', 'portable-document-format']) {
    const r = await s.post('/v1/documents', { json: { content: 'Hello.', format } });
    assertError(r, 400);
    assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(r.body), 'the error is UTF-8');
    assert.ok(r.json.error.includes(format), `the error names "${format}": ${JSON.stringify(r.json.error)}`);
  }
});

/**
 * Sends a request head and then `chunks` over a raw socket, and waits for the response
 * without writing anything more: the server has read everything sent, so its answer is not
 * lost to a connection reset. Resolves {status, body} or {error} when no response arrived.
 */
function rawRequest(port, head, chunks = []) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (v) => { if (!done) { done = true; clearTimeout(timer); sock.destroy(); resolve(v); } };
    const timer = setTimeout(() => finish({ error: new Error('no response within 20 s') }), 20_000);
    const parse = () => {
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const status = Number(text.slice(9, 12));
      const len = Number((text.match(/\r\ncontent-length:\s*(\d+)/i) || [])[1] || 0);
      if (data.length < end + 4 + len) return null;
      return { status, body: data.subarray(end + 4, end + 4 + len).toString() };
    };
    sock.on('data', (d) => {
      data = Buffer.concat([data, d]);
      const r = parse();
      if (r) finish(r);
    });
    sock.on('error', (error) => finish(parse() || { error }));
    sock.on('close', () => finish(parse() || { error: new Error('closed without a response') }));
    sock.on('connect', async () => {
      sock.write(head);
      for (const c of chunks) {
        if (done || sock.destroyed) return;
        if (!sock.write(c)) await new Promise((r) => { sock.once('drain', r); sock.once('close', r); });
      }
    });
  });
}

const BIG = 11 << 20;   // over the default 10 MiB limit
const bigJson = () => Buffer.concat([Buffer.from('{"format":"text","content":"'), Buffer.alloc(BIG, 'a'), Buffer.from('"}')]);

itest('a body over 10 MiB is refused with 413 and the server keeps serving', async (t, h) => {
  const s = await h.start();
  // declared too large: refused on the headers alone
  const r1 = await rawRequest(s.port,
    `POST /v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${BIG + 40}\r\n\r\n`);
  assert.equal(r1.error, undefined, `with Content-Length: no response (${r1.error?.message})`);
  assert.equal(r1.status, 413);
  assert.equal(typeof JSON.parse(r1.body).error, 'string');

  // chunked, no Content-Length: the limit is found while reading; the client sends a little
  // more than 10 MiB and then waits for the answer
  const chunk = (b) => Buffer.concat([Buffer.from(b.length.toString(16) + '\r\n'), b, Buffer.from('\r\n')]);
  const chunks = [chunk(Buffer.from('{"format":"text","content":"'))];
  for (let i = 0; i < 10 * 16 + 2; i++) chunks.push(chunk(Buffer.alloc(64 << 10, 'a')));
  const r2 = await rawRequest(s.port,
    'POST /v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    chunks);
  assert.equal(r2.error, undefined, `chunked: no response (${r2.error?.message})`);
  assert.equal(r2.status, 413);

  // a body just under the limit is accepted
  const under = Buffer.concat([Buffer.from('{"format":"text","content":"'),
    Buffer.alloc((10 << 20) - 4096, 'word '), Buffer.from('"}')]);
  const r3 = await s.post('/v1/documents', { body: under, headers: { 'content-type': 'application/json' }, timeout: 60_000 });
  assert.equal(r3.status, 201, r3.text.slice(0, 200));

  assert.deepEqual((await s.get('/healthz')).json, { status: 'ok' });
  const ok = await s.createDoc('Still works.', 'text');
  assert.equal(ok.block_count, 1);
  assert.equal((await s.get('/v1/documents')).json.length, 2, 'the refused bodies stored nothing');
});

itest('a fetch() client uploading over 10 MiB sees the 413, not a broken connection',
  async (t, h) => {
    const s = await h.start();
    const payload = bigJson();
    for (let i = 0; i < 5; i++) {
      let r;
      try {
        r = await s.post('/v1/documents', { body: payload, headers: { 'content-type': 'application/json' } });
      } catch (e) {
        assert.fail(`attempt ${i + 1}: fetch failed (${e.cause?.code || e.message}) instead of answering 413`);
      }
      assert.equal(r.status, 413);
    }
  });

itest('healthz, metrics and models', async (t, h) => {
  const s = await h.start();
  const hz = await s.get('/healthz');
  assert.equal(hz.status, 200);
  assert.deepEqual(hz.json, { status: 'ok' });

  const m = await s.get('/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type'), /^text\/plain/);
  for (const name of ['recite_syntheses_total', 'recite_cache_hits_total', 'recite_cache_misses_total',
    'recite_jobs_queued', 'recite_jobs_running', 'recite_ws_connections']) {
    assert.match(m.text, new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'), `${name} declared`);
    assert.match(m.text, new RegExp(`^${name} [0-9.e+-]+$`, 'm'), `${name} sample`);
  }
  for (const line of m.text.split('\n').filter((l) => l && !l.startsWith('#')))
    assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+(\s+\d+)?$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (NaN|[+-]Inf)$/, `Prometheus line: ${line}`);

  const models = await s.get('/v1/models');
  assert.equal(models.status, 200);
  const espeak = models.json.find((x) => x.slug === 'espeak');
  assert.ok(espeak, 'espeak is a model');
  assert.equal(typeof espeak.name, 'string');
  const enUs = espeak.voices.find((v) => v.slug === 'en-us');
  assert.ok(enUs, 'espeak has the en-us voice');
  assert.equal(typeof enUs.name, 'string');
  assert.match(enUs.lang, /^en/);

  assertError(await s.get('/v1/nothing-here'), 404);
});
