// Unit tests of web/engine.js in browser mode (model `browser`): the same block states and
// prefetch rules as server mode, synthesis by an injected (fake) synthesizer one block at a
// time nearest the cursor, playback from memory, uploads in the background that never stop
// playback, word highlighting from the synthesizer's word events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, BATCH_SIZE, KEEP_BEHIND, PRELOAD_AHEAD, UPLOAD_RETRY_MS } from '../../web/engine.js';
import { fakeSocket, fakeAudio, fakeTimers, fakeSynthesizer, makeDoc, status, flush } from './fakes.mjs';

const B = { model: 'browser', voice: 'en-us' };

function setup({ blocks = 20, synth = fakeSynthesizer() } = {}) {
  const socket = fakeSocket();
  const audio = fakeAudio();
  const timers = fakeTimers();
  const engine = createEngine({ socket, audio, timers, synthesizer: synth, ...B });
  engine.load(makeDoc(blocks));
  engine.onConnection('open');
  const snap = () => engine.getSnapshot();
  const answer = (idx, s, extra = {}) => engine.onMessage(status(idx, s, { ...B, ...extra }));
  const local = (...idxs) => { for (const i of idxs) answer(i, 'synthesize_locally'); };
  return { socket, audio, timers, engine, synth, snap, answer, local };
}

test('browser mode asks the server in batches with synthesis_mode "browser"', () => {
  const { engine, socket, snap } = setup();
  engine.play();
  const [req] = socket.synth();
  assert.equal(req.synthesis_mode, 'browser');
  assert.equal(req.model, 'browser');
  assert.deepEqual(req.block_indices, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(req.block_indices.length, BATCH_SIZE);
  assert.equal(snap().synthesisMode, 'browser');
  assert.equal(snap().playState, 'buffering');
});

test('synthesize_locally: queued, then processing one at a time, then cached, and it plays from memory', async () => {
  const { engine, synth, audio, snap, local, timers } = setup();
  engine.play();
  local(0, 1, 2, 3, 4, 5, 6, 7);
  await flush();
  assert.equal(synth.calls.length, 1, 'one synthesis at a time (one worker)');
  assert.equal(synth.calls[0].text, 'Block 0.');
  assert.equal(synth.calls[0].voice, 'en-us');
  assert.deepEqual(snap().blockStates.slice(0, 3), ['processing', 'queued', 'queued']);
  timers.advance(100);   // 1.5 s of audio in 100 ms: the adaptive start rule plays at once
  synth.finish();
  await flush();
  assert.equal(snap().playState, 'playing');
  assert.equal(audio.plays[0].url, 'blob:Block 0.', 'played from memory, no download');
  assert.deepEqual(snap().blockStates.slice(0, 3), ['cached', 'processing', 'queued']);
});

test('a synthesizer slower than real time buffers under the same start rule as the server', async () => {
  const { engine, synth, snap, local, timers } = setup();
  engine.play();
  local(0, 1, 2, 3, 4, 5, 6, 7);
  for (let i = 0; i < 2; i++) {
    await flush();
    timers.advance(3000);   // 3 s per 1.5 s block
    synth.finish();
    await flush();
    assert.equal(snap().playState, 'buffering', `${i + 1} blocks made`);
  }
  timers.advance(3000);
  synth.finish();
  await flush();
  assert.equal(snap().playState, 'playing', '4.5 s buffered >= 2 x 2 x 1 s still to make');
});

test('what the user uploaded before comes back cached from the server and is not synthesized', async () => {
  const { engine, synth, audio, snap, answer, local } = setup();
  engine.play();
  for (let i = 0; i < 4; i++) answer(i, 'cached', { audio_url: `/v1/audio/up-${i}` });
  local(4, 5, 6, 7);
  await flush();
  assert.equal(snap().playState, 'playing');
  assert.equal(audio.plays[0].url, '/v1/audio/up-0');
  assert.equal(synth.calls.length, 1);
  assert.equal(synth.calls[0].text, 'Block 4.');
});

test('each finished block is uploaded in the background; failed uploads never stop playback', async () => {
  const synth = fakeSynthesizer();
  synth.failUploads = true;
  const { engine, audio, snap, local } = setup({ synth });
  engine.play();
  local(0, 1, 2, 3, 4, 5, 6, 7);
  for (let i = 0; i < 4; i++) { await flush(); synth.finish(); }
  await flush();
  assert.equal(snap().playState, 'playing');
  assert.equal(snap().error, null, 'an upload failure is not the reader\'s problem');
  assert.deepEqual(synth.uploads.map((u) => u.idx), [0, 1, 2, 3]);
  assert.deepEqual(Object.keys(synth.uploads[0]).sort(), ['body', 'documentId', 'idx', 'model', 'signal', 'skipReferences', 'type', 'voice', 'words']);
  assert.equal(synth.uploads[0].documentId, 'doc1');
  assert.equal(synth.uploads[0].model, 'browser');
  audio.end();
  assert.equal(audio.lastPlay().url, 'blob:Block 1.', 'the next block plays on');
});

test('nearest the cursor first: after a seek the synthesizer takes the new cursor\'s block next', async () => {
  const { engine, synth, snap, local } = setup({ blocks: 40 });
  engine.play();
  local(0, 1, 2, 3, 4, 5, 6, 7);
  await flush();
  engine.seek(6);
  synth.finish();    // block 0 was already running: it finishes and is kept
  await flush();
  assert.equal(synth.calls[1].text, 'Block 6.');
  assert.equal(snap().blockStates[0], 'cached');
});

test('a seek drops local work outside [cursor - 8, cursor + 16], as the server evicts', async () => {
  const { engine, synth, snap, local, socket } = setup({ blocks: 60 });
  engine.play();
  local(0, 1, 2, 3, 4, 5, 6, 7);
  await flush();
  engine.seek(40);
  assert.deepEqual(snap().blockStates.slice(1, 8), Array(7).fill('pending'));
  synth.finish();
  await flush();
  assert.equal(synth.calls.length, 1, 'nothing left to synthesize until the server answers');
  assert.ok(socket.requested().includes(40), 'the new cursor is requested');
});

test('a voice switch drops the old voice\'s late result and releases its blobs', async () => {
  const { engine, synth, snap, local } = setup();
  engine.play();
  local(0, 1);
  await flush();
  synth.finish();
  await flush();
  engine.setVoice('browser', 'de');
  synth.finish();   // block 1, old voice
  await flush();
  assert.deepEqual(snap().blockStates.slice(0, 2), ['queued', 'queued'], 'the new voice starts over');
  assert.ok(synth.released.includes('blob:Block 0.'), 'the old voice\'s audio is released');
  assert.ok(synth.released.includes('blob:Block 1.'), 'a late result for the old voice is released');
});

test('a block the synthesizer fails three times is an error and playback moves on', async () => {
  const { engine, synth, snap, local } = setup({ blocks: 3 });
  engine.play();
  local(0, 1, 2);
  for (let i = 0; i < 3; i++) { await flush(); synth.fail(); }
  await flush();
  assert.equal(snap().blockStates[0], 'error');
  assert.match(snap().error.message, /could not synthesize block 1/);
  synth.finish();
  await flush();
  synth.finish();
  await flush();
  assert.equal(snap().playState, 'playing');
  assert.equal(snap().cursor, 1);
});

test('word highlighting comes from the synthesizer\'s word events', async () => {
  const { engine, synth, audio, snap, local } = setup({ blocks: 1 });
  engine.play();
  local(0);
  await flush();
  synth.finish();
  await flush();
  assert.equal(snap().playState, 'playing');
  audio.time(500);
  assert.deepEqual({ ...snap().word }, { idx: 0, offset: 6, length: 2 });
});

test('without a synthesizer a browser block is an error, not a hang', () => {
  const socket = fakeSocket();
  const engine = createEngine({ socket, audio: fakeAudio(), timers: fakeTimers(), ...B });
  engine.load(makeDoc(2));
  engine.onConnection('open');
  engine.play();
  engine.onMessage(status(0, 'synthesize_locally', B));
  assert.equal(engine.getSnapshot().blockStates[0], 'error');
});

test('server mode is unchanged: synthesis_mode "server" for server models', () => {
  const socket = fakeSocket();
  const engine = createEngine({ socket, audio: fakeAudio(), timers: fakeTimers(), synthesizer: fakeSynthesizer() });
  engine.load(makeDoc(4));
  engine.onConnection('open');
  engine.play();
  assert.equal(socket.synth()[0].synthesis_mode, 'server');
  assert.equal(socket.synth()[0].model, 'espeak');
});

test('a repeated synthesize_locally (after a reconnect) never starts a block twice', async () => {
  const { engine, synth, snap, local } = setup();
  engine.play();
  local(0, 1);
  await flush();
  local(0, 1);   // the reconnect's re-sent request is answered again
  await flush();
  assert.equal(synth.calls.length, 1);
  assert.deepEqual(snap().blockStates.slice(0, 2), ['processing', 'queued']);
  synth.finish();
  await flush();
  synth.finish();
  await flush();
  assert.deepEqual(synth.calls.map((c) => c.text), ['Block 0.', 'Block 1.']);
});

test('a block far behind the cursor plays from its uploaded copy and its blob is released', async () => {
  const { engine, synth, snap, local, audio } = setup({ blocks: 40 });
  engine.play();
  local(0, 1, 2, 3, 4, 5, 6, 7);
  for (let i = 0; i < 8; i++) { await flush(); synth.finish(); }
  await flush();
  await flush();
  assert.equal(synth.released.length, 0, 'near the cursor: kept in memory');
  engine.seek(20);
  assert.ok(synth.released.includes('blob:Block 0.'), 'far behind: the blob is released');
  engine.seek(0);
  await flush();
  assert.equal(snap().blockStates[0], 'cached', 'still cached: the server has it');
  assert.equal(snap().playState, 'playing');
  assert.equal(audio.lastPlay().url, '/v1/audio/x', 'played from the server\'s copy');
});

test('skip references: the page speaks the server\'s spoken_text and uploads with the same setting', async () => {
  const synth = fakeSynthesizer();
  const socket = fakeSocket();
  const engine = createEngine({ socket, audio: fakeAudio(), timers: fakeTimers(), synthesizer: synth, ...B });
  const doc = makeDoc(4);
  doc.blocks[0].text = 'Seen [12] here.';
  engine.load(doc);
  engine.onConnection('open');
  engine.setSkipReferences(true);
  engine.play();
  assert.equal(socket.synth()[0].skip_references, true);
  engine.onMessage(status(0, 'synthesize_locally', { ...B, skip_references: true, spoken_text: 'Seen      here.' }));
  await flush();
  assert.equal(synth.calls[0].text, 'Seen      here.', 'what the server would speak, not the shown text');
  synth.finish();
  await flush();
  assert.equal(synth.uploads[0].skipReferences, true, 'hashed by the server with the same setting');
  // the other setting's late answer (sent before the toggle reached the server) is ignored
  engine.onMessage(status(1, 'synthesize_locally', { ...B, skip_references: false, spoken_text: 'Block 1.' }));
  await flush();
  assert.equal(synth.calls.length, 1);
});

// Browser mode with the server unreachable for a long session: every upload fails. Drives
// the engine block by block (the server's answers, the synthesizer, the end of each block).
async function readThrough(t, count, { hang = false } = {}) {
  const synth = fakeSynthesizer();
  synth.failUploads = true;
  synth.hangUploads = hang;
  const env = setup({ blocks: count, synth });
  const { engine, socket, audio, snap, local } = env;
  const held = () => synth.calls.filter((c) => c.done).length - synth.released.length;
  let answered = 0;
  let maxHeld = 0;
  const answerNew = () => {
    const idx = socket.requested();
    local(...idx.slice(answered));
    answered = idx.length;
  };
  engine.play();
  for (let guard = 0; guard < count * 10 && snap().playState !== 'stopped'; guard++) {
    answerNew();
    await flush();
    if (synth.pending.length) synth.finish();
    await flush();
    maxHeld = Math.max(maxHeld, held());
    if (snap().playState === 'playing' && audio.current) audio.end();
    await flush();
  }
  return { ...env, held, maxHeld, answerNew };
}

test('uploads failing for 500 blocks: the page holds only a window of blobs, and retries their uploads while it holds them', async (t) => {
  const { snap, synth, held, maxHeld, timers } = await readThrough(t, 500);
  assert.equal(snap().playState, 'stopped', 'read to the end');
  assert.equal(snap().error, null);
  assert.equal(synth.calls.length, 500, 'every block was made here, once: nothing dropped behind is made again unasked');
  const window = KEEP_BEHIND + PRELOAD_AHEAD * 4 + 1;
  assert.ok(maxHeld <= window, `at most ${window} blobs held at once, not ${maxHeld}`);
  assert.ok(held() <= window, `${held()} held at the end`);
  // the blocks behind the cursor are not cached any more: only the ones still held are
  const cached = snap().blockStates.filter((x) => x === 'cached').length;
  assert.ok(cached <= window, `${cached} blocks still cached`);
  // a held block's upload is tried again after a while (the server may be back)
  const before = synth.uploads.length;
  synth.failUploads = false;
  timers.advance(UPLOAD_RETRY_MS * 2);
  await flush();
  const retried = synth.uploads.slice(before);
  assert.ok(retried.length > 0 && retried.length <= window, `${retried.length} held blocks tried again`);
  assert.ok(retried.every((u) => u.idx >= 500 - window), 'only blocks still held are uploaded again');
});

test('a block dropped while its upload failed is synthesized again when the reader goes back to it', async (t) => {
  const { engine, snap, synth, audio, answerNew } = await readThrough(t, 120);
  assert.equal(snap().blockStates[3], 'pending', 'dropped: far behind and never uploaded');
  assert.ok(synth.released.includes('blob:Block 3.'));
  const made = synth.calls.filter((c) => c.text === 'Block 3.').length;
  engine.seek(3);
  engine.play();
  answerNew();
  await flush();
  assert.equal(synth.calls.filter((c) => c.text === 'Block 3.').length, made + 1, 'synthesized again');
  synth.finish();
  for (let i = 0; i < 4; i++) { await flush(); if (synth.pending.length) synth.finish(); }
  await flush();
  assert.equal(snap().blockStates[3], 'cached');
  assert.equal(snap().playState, 'playing');
  assert.equal(audio.lastPlay().url, 'blob:Block 3.', 'played from the new blob');
});

test('an upload still under way when its block is dropped is aborted (it keeps no audio alive)', async (t) => {
  const { synth, snap } = await readThrough(t, 120, { hang: true });
  assert.equal(snap().playState, 'stopped');
  const window = KEEP_BEHIND + PRELOAD_AHEAD * 4 + 1;
  const dropped = synth.uploads.filter((u) => u.idx < 120 - window);
  assert.ok(dropped.length >= 120 - window);
  assert.ok(dropped.every((u) => u.signal.aborted), 'every dropped block\'s upload was aborted');
  assert.ok(synth.uploads.filter((u) => u.idx === 119).every((u) => !u.signal.aborted), 'a held block\'s upload goes on');
});
