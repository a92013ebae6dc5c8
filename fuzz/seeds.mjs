// seeds — writes the seed corpora in fuzz/corpus/<target>/ (committed; rerun after changing
// this file): `node fuzz/seeds.mjs`. Each seed is a small valid (or nearly valid) input that
// leads the fuzzer into a code path: every message type, every endpoint, Range forms,
// multipart uploads, WebSocket frames.
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const DOC_A = '00000000-0000-4000-8000-00000000000a';
const DOC_B = '00000000-0000-4000-8000-00000000000b';
const HASH = 'a'.repeat(64);

function write(target, seeds) {
  const dir = join(root, target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const s of seeds) {
    const buf = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
    const name = createHash('sha1').update(buf).digest('hex').slice(0, 16);
    writeFileSync(join(dir, name), buf);
  }
}

// --- fuzz_doc: first byte selects text / markdown / html / split (bit 2: a given title)
const md = `# Title *here*\n\nA paragraph with **bold**, a [link](https://example.com/?a=1&b=2) and \`code\`.\n\n` +
  `- one\n- two\n  - nested\n\n> quoted text\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n\`\`\`\ncode\n\`\`\`\n\n<div>raw</div>\n`;
const html = `<!doctype html><html><head><title>T</title><script>x()</script></head><body>` +
  `<nav>menu</nav><article><h1>Head</h1><p>Para <b>one</b>.</p><ul><li>item</li></ul>` +
  `<pre>code</pre><table><tr><td>x</td></tr></table><p>Two &amp; three &#8212; four.</p></article></body></html>`;
const long = 'This is a sentence that goes on, and on; and on: with pauses — everywhere. '.repeat(12);
const noSpace = 'x'.repeat(700);
write('fuzz_doc', [
  '\x00Plain text.\n\nSecond paragraph.',
  '\x01' + md, '\x05' + md,
  '\x02' + html, '\x06<p>only</p>',
  '\x03' + long, '\x03' + noSpace, '\x03日本語の文です。次の文！そして？' .repeat(30),
  '\x01' + 'Word '.repeat(400) + '\n', '\x00' + long, '\x02' + '<p>' + long + '</p>',
  '\x03"Quoted." (Paren.) ¿Qué? ¡Sí! e.g. Mr. Smith 1,000.5 U.S.A. ...',
  '\x01# \n\n## \n\n   \n', '\x00\r\n\r\n\t',
]);

// --- fuzz_range: 8 bytes of total length (little endian), then the header
const le = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const ranges = ['bytes=0-99', 'bytes=100-', 'bytes=-10', 'bytes=5-1', 'bytes=0-1,5-9',
  'bytes=99999999999999999999999-', ' bytes = 1-2 ', 'bytes=-0', 'items=0-1', HASH, DOC_A,
  'A'.repeat(64), DOC_A.toUpperCase()];
write('fuzz_range', ranges.flatMap((r) => [Buffer.concat([le(1000), Buffer.from(r)]),
  Buffer.concat([le(0), Buffer.from(r)])]));

// --- fuzz_ws_message: messages separated by NUL; a leading 0x01 = second connection
const j = (o) => JSON.stringify(o);
const syn = (doc, idx, extra = {}) => j({ type: 'synthesize', document_id: doc, block_indices: idx,
  cursor: idx[0] ?? 0, model: 'espeak', voice: 'en-us', synthesis_mode: 'server', ...extra });
write('fuzz_ws_message', [
  syn(DOC_A, [0, 1, 2, 3]),
  syn(DOC_A, [0, 1, 2, 3, 4, 5, 6, 7]) + '\0' + j({ type: 'cursor_moved', document_id: DOC_A, cursor: 30 }),
  syn(DOC_A, [1, 2]) + '\0\x01' + syn(DOC_A, [2, 3]) + '\0' + syn(DOC_A, [1], { voice: 'de' }),
  syn(DOC_B, [0, -1, 99, 0]),
  syn(DOC_A, Array.from({ length: 33 }, (_, i) => i)),
  j({ type: 'synthesize', document_id: DOC_A, block_indices: [1.5] }),
  j({ type: 'synthesize', document_id: DOC_A, block_indices: [1], cursor: null, model: null }),
  j({ type: 'synthesize', document_id: DOC_A, block_indices: [1], model: 7 }),
  j({ type: 'cursor_moved', document_id: DOC_A, cursor: 2147483647 }),
  j({ type: 'cursor_moved', document_id: DOC_A, cursor: -2147483648 }),
  j({ type: 'nope' }), '[1,2]', '{"type":', '', 'null',
  syn('not-a-uuid', [1]), syn(DOC_A.toUpperCase(), [1]),
  syn(DOC_A, [1], { synthesis_mode: 'browser' }), syn(DOC_A, [1], { model: 'x', voice: 'y' }),
]);

// --- fuzz_http: the bytes of one TCP connection
const req = (method, path, headers = {}, body = '') => {
  const h = { Host: '127.0.0.1', ...headers };
  if (body !== '' && !('Content-Length' in h) && !('Transfer-Encoding' in h)) h['Content-Length'] = Buffer.byteLength(body);
  return `${method} ${path} HTTP/1.1\r\n` + Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n' + body;
};
const boundary = '----recitefuzz';
const multipart = (parts) => parts.map(([name, value, filename]) =>
  `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n` +
  (filename ? 'Content-Type: text/markdown\r\n' : '') + `\r\n${value}\r\n`).join('') + `--${boundary}--\r\n`;
const mp = (parts) => req('POST', '/v1/documents', { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, multipart(parts));

// a client WebSocket frame (masked), text by default
function frame(payload, { opcode = 1, fin = true, mask = [1, 2, 3, 4] } = {}) {
  const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  let head;
  if (p.length < 126) head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | p.length]);
  else if (p.length < 65536) { head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, 0, 0]); head.writeUInt16BE(p.length, 2); }
  else { head = Buffer.alloc(10); head[0] = (fin ? 0x80 : 0) | opcode; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(p.length), 2); }
  const m = Buffer.from(mask);
  const out = Buffer.alloc(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p[i] ^ m[i & 3];
  return Buffer.concat([head, m, out]);
}
const upgrade = req('GET', '/v1/ws/tts', { Upgrade: 'websocket', Connection: 'Upgrade',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' });
const ws = (...frames) => Buffer.concat([Buffer.from(upgrade), ...frames]);

write('fuzz_http', [
  req('GET', '/healthz'), req('GET', '/metrics'), req('GET', '/v1/models'),
  req('GET', '/'), req('GET', '/index.html'), req('GET', '/../etc/passwd'), req('GET', '/.git/config'),
  req('GET', '/nope.js'), req('HEAD', '/'), req('OPTIONS', '/'), req('DELETE', '/v1/models'),
  req('GET', `/v1/audio/${HASH}`), req('GET', `/v1/audio/${HASH}`, { Range: 'bytes=10-20' }),
  req('GET', `/v1/audio/${HASH}`, { Range: 'bytes=-5' }), req('GET', `/v1/audio/${HASH}`, { Range: 'bytes=100-' }),
  req('GET', `/v1/audio/${HASH}`, { 'If-None-Match': `"${HASH}"` }), req('GET', '/v1/audio/ABC'),
  req('POST', `/v1/audio/${HASH}`), req('POST', '/v1/audio/speech', { 'Content-Type': 'application/json' }, '{}'),
  req('GET', '/v1/documents'), req('GET', `/v1/documents/${DOC_A}`), req('GET', `/v1/documents/${DOC_A}/nope`),
  req('PATCH', `/v1/documents/${DOC_A}/position`, { 'Content-Type': 'application/json' }, '{"block_idx":1}'),
  req('DELETE', `/v1/documents/${DOC_B}`),
  req('POST', '/v1/documents', { 'Content-Type': 'application/json' }, j({ content: '# Hi\n\nThere.', format: 'markdown' })),
  req('POST', '/v1/documents', { 'Content-Type': 'application/json' }, j({ content: '<p>x</p>', format: 'html', title: 'T' })),
  req('POST', '/v1/documents', { 'Content-Type': 'application/json' }, '{"content": 1}'),
  req('POST', '/v1/documents', { 'Content-Length': '99999999999' }),
  req('POST', '/v1/documents', { 'Transfer-Encoding': 'chunked', 'Content-Type': 'application/json' },
    '10\r\n{"content":"abc"\r\n1\r\n}\r\n0\r\n\r\n'),
  mp([['file', '# Upload\n\nBody text.', 'book.md']]),
  mp([['title', 'Given'], ['format', 'text'], ['file', 'Plain upload.', 'a.txt']]),
  mp([['file', 'As a field']]), mp([['other', 'x']]),
  req('POST', '/v1/documents', { 'Content-Type': 'multipart/form-data' }, 'garbage'),
  req('POST', '/v1/documents', { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.md"\r\n\r\nunterminated`),
  req('GET', '/healthz') + req('GET', '/v1/models'),   // pipelined keep-alive
  ws(frame(syn(DOC_A, [0, 1]))),
  ws(frame(syn(DOC_A, [0, 1, 2])), frame(j({ type: 'cursor_moved', document_id: DOC_A, cursor: 1 }))),
  ws(frame('{"type":', { fin: false }), frame('"x"}', { opcode: 0 })),
  ws(frame(Buffer.from([0xff, 0xfe]))), ws(frame('bin', { opcode: 2 })), ws(frame('', { opcode: 9 })),
  ws(frame('', { opcode: 8 })), ws(frame('x'.repeat(70000))),
  req('GET', '/v1/ws/tts'), req('GET', '/v1/other', { Upgrade: 'websocket', Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' }),
  'GET / HTTP/1.0\r\n\r\n', 'GARBAGE\r\n\r\n', '\r\n\r\n', 'GET /' + 'a'.repeat(3000) + ' HTTP/1.1\r\n\r\n',
]);
// --- fuzz_piper_config: Piper voice configs (.onnx.json), valid and broken
const tinyVoice = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'data', 'piper', 'tiny.onnx.json'), 'utf8');
const pv = (o) => JSON.stringify({ audio: { sample_rate: 22050 }, espeak: { voice: 'en-us' },
  phoneme_id_map: { _: [0], '^': [1], $: [2], a: [3, 4], 'ˈ': [5] }, ...o });
write('fuzz_piper_config', [
  tinyVoice, pv({}), pv({ num_speakers: 2, speaker_id_map: { x: 0, y: 1 } }),
  pv({ inference: { noise_scale: 0.3, length_scale: 2, noise_w: 0.1 } }),
  pv({ phoneme_id_map: { _: [0], '^': [1] } }), pv({ phoneme_id_map: { ab: [1] } }),
  pv({ phoneme_type: 'text' }), pv({ audio: { sample_rate: 1 } }), pv({ language: { code: 'de_DE' } }),
  '{}', '[]', '{"phoneme_id_map":', 'null',
]);

// --- fuzz_upload: first byte = Content-Type (bits 0-1: none, ogg, wav, mpeg) and text (bit 2:
// "Hello." or a long sentence); the rest is the uploaded body. The Ogg Opus seed is made by
// build/recite (run `make` first); the WAV seeds here.
function wav(seconds, { rate = 22050, bits = 16, ch = 1, tag = 1, claim } = {}) {
  const frames = Math.round(seconds * rate), bytes = frames * ch * bits / 8;
  const b = Buffer.alloc(44 + bytes);
  b.write('RIFF', 0); b.writeUInt32LE(36 + bytes, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(tag, 20); b.writeUInt16LE(ch, 22);
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * ch * bits / 8, 28); b.writeUInt16LE(ch * bits / 8, 32);
  b.writeUInt16LE(bits, 34); b.write('data', 36); b.writeUInt32LE(claim ?? bytes, 40);
  for (let i = 0; i < frames * ch && bits === 16; i++) b.writeInt16LE(Math.round(8000 * Math.sin(i / 7)), 44 + 2 * i);
  return b;
}
const tmpOgg = join(root, '..', '..', 'build', 'seed-upload.ogg');
execFileSync(join(root, '..', '..', 'build', 'recite'), ['say', '-o', tmpOgg, 'Hello.']);
const ogg = readFileSync(tmpOgg);
rmSync(tmpOgg);
const up = (flags, body) => Buffer.concat([Buffer.from([flags]), body]);
// word timings in the body: a WAV "word" chunk after the samples, an OpusTags comment
const WORDS = '40 300 0 5,300 600 0 5';
function wavWords(w, text) {
  const t = Buffer.from(text), pad = t.length & 1;
  const chunk = Buffer.alloc(8 + t.length + pad);
  chunk.write('word', 0); chunk.writeUInt32LE(t.length, 4); t.copy(chunk, 8);
  const out = Buffer.concat([w, chunk]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}
const tmpWav = join(root, '..', '..', 'build', 'seed-words.wav'), tmpTagged = join(root, '..', '..', 'build', 'seed-words.ogg');
writeFileSync(tmpWav, wav(1));
execFileSync('opusenc', ['--quiet', '--comment', `RECITE_WORD_TIMINGS=${WORDS}`, tmpWav, tmpTagged]);
const tagged = readFileSync(tmpTagged);
rmSync(tmpWav);
rmSync(tmpTagged);
write('fuzz_upload', [
  up(2, wavWords(wav(1), WORDS)), up(1, tagged),
  up(1, ogg), up(0, ogg), up(2, ogg), up(1, ogg.subarray(0, ogg.length - 40)),
  up(2, wav(1)), up(6, wav(3)), up(0, wav(0.5, { rate: 48000, ch: 2 })), up(2, wav(1, { bits: 8 })),
  up(2, wav(0.2, { claim: 36000 * 22050 * 2 })), up(2, wav(1, { rate: 96000 })), up(2, wav(1, { tag: 85 })),
  up(3, Buffer.from([0xff, 0xfb, 0x90, 0x64, ...Buffer.alloc(400)])), up(1, Buffer.from('ID3\x03\x00 not really')),
  up(0, Buffer.from('just some text')), up(0, Buffer.alloc(0)),
]);
// --- fuzz_piper_noise: ONNX models (tests/data/piper/make_model.mjs), with and without noise
const { tinyPiperModel } = await import('../tests/data/piper/make_model.mjs');
write('fuzz_piper_noise', [
  tinyPiperModel({ noise: true }), tinyPiperModel(), tinyPiperModel({ noise: true, durations: true, sid: true }),
  tinyPiperModel({ noise: true }).subarray(0, 200), Buffer.from([8, 7, 0x3a, 0xff]), Buffer.alloc(0),
  (await import('../tests/data/kokoro/make_kokoro.mjs')).tinyKokoroModel({ noise: true }),
]);
// --- fuzz_kokoro_voices: Kokoro voices files (tests/data/kokoro/make_kokoro.mjs): .npz stored
// and deflated, lone .npy arrays, broken headers
const kk = await import('../tests/data/kokoro/make_kokoro.mjs');
const kvoice = (rows, dim) => kk.npy([rows, 1, dim], kk.toneVoice(3, rows, dim));
write('fuzz_kokoro_voices', [
  kk.tinyVoicesFile({ rows: 4, dim: 8 }), kk.tinyVoicesFile({ rows: 3, dim: 4, deflate: true }),
  kk.zip({ 'af_a.npy': kvoice(2, 4), 'bf_b.npy': kvoice(3, 4) }), kk.zip({ 'x.txt': Buffer.from('x') }),
  kk.zip({ 'af_a.npy': kk.npy([2, 2], [1, 2, 3, 4], { descr: '<f8' }) }),
  kk.zip({ 'af_a.npy': kk.npy([4], [1, 2, 3, 4], { fortran: true }) }),
  kvoice(2, 4), kk.npy([3], [1, 2, 3]), kk.npy([], [1]), kvoice(2, 4).subarray(0, 40),
  kk.tinyVoicesFile({ rows: 4, dim: 8 }).subarray(0, 300), Buffer.from('PK\x05\x06'), Buffer.alloc(0),
]);
console.log(`seed corpora written under ${root}`);
