// Unit tests of web/browser-tts.js: requests to the worker and its answers as playable blob
// URLs, a failing worker rejecting what waits on it, and uploads retried with backoff except
// for a refusal (a 4xx the same upload will always get).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBrowserSynthesizer } from '../../web/browser-tts.js';

class FakeWorker {
  static last = null;
  constructor(url, opts) { this.url = String(url); this.opts = opts; this.posted = []; FakeWorker.last = this; }
  postMessage(m) { this.posted.push(m); }
  reply(m) { this.onmessage({ data: m }); }
  fail(message) { this.onerror({ message, preventDefault() {} }); }
  terminate() { this.terminated = true; }
}

test('synthesize posts to a module worker and turns its answer into a blob URL', async () => {
  const s = createBrowserSynthesizer({ WorkerImpl: FakeWorker, langOf: (v) => (v === 'en-gb' ? 'en-GB' : '') });
  const p = s.synthesize({ text: 'Hello.', voice: 'en-gb' });
  const w = FakeWorker.last;
  assert.equal(w.opts.type, 'module');
  assert.match(w.url, /tts-worker\.js$/);
  assert.deepEqual(w.posted[0], { id: 1, text: 'Hello.', voice: 'en-gb', lang: 'en-GB' });
  const words = [{ start_ms: 40, end_ms: 300, offset: 0, length: 5 }];
  w.reply({ id: 1, ok: true, body: new Uint8Array([79, 103, 103, 83]).buffer, type: 'audio/ogg', durationMs: 900, words });
  const r = await p;
  assert.match(r.url, /^blob:/);
  assert.equal(r.durationMs, 900);
  assert.deepEqual(r.words, words);
  assert.equal(r.type, 'audio/ogg');
  assert.equal(new Uint8Array(await r.body.arrayBuffer())[0], 79);
  s.release(r.url);
});

test('a worker that fails rejects every waiting block, and the next request starts a new one', async () => {
  const s = createBrowserSynthesizer({ WorkerImpl: FakeWorker });
  const a = s.synthesize({ text: 'A.', voice: 'en-us' });
  const first = FakeWorker.last;
  first.fail('could not load');
  await assert.rejects(a, /speech worker failed: could not load/);
  assert.ok(first.terminated);
  const b = s.synthesize({ text: 'B.', voice: 'en-us' });
  assert.notEqual(FakeWorker.last, first);
  FakeWorker.last.reply({ id: 2, ok: false, error: 'espeak-ng has no voice "xx"' });
  await assert.rejects(b, /no voice "xx"/);
});

test('uploads are retried with backoff; a refusal is not', async () => {
  let calls = 0;
  const flaky = async () => { calls++; if (calls < 3) throw Object.assign(new Error('offline'), { status: 0 }); return { audio_url: '/v1/audio/x' }; };
  const s = createBrowserSynthesizer({ WorkerImpl: FakeWorker, uploadImpl: flaky, backoffMs: 1 });
  const warn = console.warn;
  console.warn = () => {};
  try {
    assert.deepEqual(await s.upload({ documentId: 'd', idx: 0, model: 'browser', voice: 'en-us', body: new Blob(['x']), type: 'audio/ogg' }),
      { audio_url: '/v1/audio/x' });
    assert.equal(calls, 3);

    let refused = 0;
    const s2 = createBrowserSynthesizer({ WorkerImpl: FakeWorker, backoffMs: 1,
      uploadImpl: async () => { refused++; throw Object.assign(new Error('the body is MP3'), { status: 415 }); } });
    await assert.rejects(s2.upload({ idx: 1 }), (err) => /MP3/.test(err.message) && err.final === true);
    assert.equal(refused, 1, 'a 415 is final');

    let busy = 0;
    const s3 = createBrowserSynthesizer({ WorkerImpl: FakeWorker, backoffMs: 1, retries: 2,
      uploadImpl: async () => { busy++; throw Object.assign(new Error('too many blocks'), { status: 429 }); } });
    await assert.rejects(s3.upload({ idx: 2 }), /too many/);
    assert.equal(busy, 3, '429 is retried (then given up)');
  } finally {
    console.warn = warn;
  }
});

test('an aborted upload stops at once, even while it waits to retry', async () => {
  let calls = 0;
  const s = createBrowserSynthesizer({ WorkerImpl: FakeWorker, backoffMs: 3600e3,
    uploadImpl: async () => { calls++; throw Object.assign(new Error('offline'), { status: 0 }); } });
  const warn = console.warn;
  console.warn = () => {};
  try {
    const ctrl = new AbortController();
    const p = s.upload({ idx: 0, body: new Blob(['x']), signal: ctrl.signal });
    await new Promise((r) => setImmediate(r));
    assert.equal(calls, 1, 'waiting an hour before the next try');
    ctrl.abort();
    await assert.rejects(p, (err) => err.name === 'AbortError');
    assert.equal(calls, 1, 'no try after the abort');
  } finally {
    console.warn = warn;
  }
});
