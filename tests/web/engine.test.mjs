// Unit tests of web/engine.js with a fake socket, audio output and timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createEngine, createRateBook, createPaceBook, PAD_MS, MIN_BUFFER_TO_START, BATCH_SIZE, REFILL_THRESHOLD, RECONNECT_NOTICE_MS,
} from '../../web/engine.js';
import { fakeSocket, fakeAudio, fakeTimers, makeDoc, status, deferred, flush } from './fakes.mjs';

function setup({ blocks = 40, audioOpts, start = 0, rates } = {}) {
  const socket = fakeSocket();
  const audio = fakeAudio(audioOpts);
  const timers = fakeTimers();
  const engine = createEngine({ socket, audio, timers, rates });
  const snaps = [];
  engine.subscribe((s) => snaps.push(s));
  engine.load(makeDoc(blocks), { cursor: start });
  engine.onConnection('open');
  const snap = () => engine.getSnapshot();
  const cache = (...idxs) => { for (const i of idxs) engine.onMessage(status(i, 'cached')); };
  // the server's immediate answer to a request: these blocks have to be produced
  const queue = (...idxs) => { for (const i of idxs) engine.onMessage(status(i, 'queued')); };
  return { socket, audio, timers, engine, snaps, snap, cache, queue };
}

// --- the adaptive start rule: blocks of 1000 ms estimated, 1500 ms real (fakes.mjs) ------

test('adaptive start: a fast engine starts after 1 block', async () => {
  const { engine, audio, snap, cache, queue, timers } = setup();
  engine.play();
  queue(0, 1, 2, 3, 4, 5, 6, 7);
  timers.advance(150);          // 1500 ms of audio made in 150 ms: 0.1 ms per ms of audio
  cache(0);
  assert.equal(snap().playState, 'playing', '1.5 s buffered outlasts 2 x 0.1 x 3 s of production');
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-0');
  assert.deepEqual(snap().blockStates.slice(1, 4), ['queued', 'queued', 'queued']);
  await flush();
});

test('adaptive start: a slow engine waits until the buffer outlasts production', () => {
  const { engine, audio, snap, cache, queue, timers } = setup();
  engine.play();
  queue(0, 1, 2, 3, 4, 5, 6, 7);
  timers.advance(3000);         // 3 s per 1.5 s block: slower than real time
  cache(0);
  assert.equal(snap().playState, 'buffering');
  timers.advance(3000);
  cache(1);
  assert.equal(snap().playState, 'buffering', '3 s buffered < 2 x 2 x 2 s still to make');
  timers.advance(3000);
  cache(2);
  assert.equal(snap().playState, 'playing', '4.5 s buffered >= 2 x 2 x 1 s still to make');
  assert.equal(audio.plays.length, 1);
});

test('adaptive start: no history means the conservative MIN_BUFFER_TO_START', () => {
  const { engine, snap, cache } = setup();
  engine.play();
  cache(0, 1, 2);              // answered cached at once: nothing was produced, nothing learnt
  assert.equal(snap().playState, 'buffering');
  cache(3);
  assert.equal(snap().playState, 'playing');
  assert.equal(MIN_BUFFER_TO_START, 4);
});

test('adaptive start: the buffer is measured at the playing speed', () => {
  const run = (speed) => {
    const { engine, snap, cache, queue, timers } = setup();
    engine.setSpeed(speed);
    engine.play();
    queue(0, 1, 2, 3);
    timers.advance(300);        // 0.2 ms per ms: 1.2 s to make the next 3 s, doubled
    cache(0);
    return snap().playState;
  };
  assert.equal(run(1), 'playing', '1.5 s of audio lasts 1.5 s at 1x');
  assert.equal(run(3), 'buffering', 'and 0.5 s at 3x');
});

test('adaptive start: what one document taught holds for the next (one rate book per page)', () => {
  const rates = createRateBook();
  const first = setup({ rates });
  first.engine.play();
  first.queue(0, 1, 2, 3);
  first.timers.advance(100);
  first.cache(0);
  assert.equal(first.snap().playState, 'playing');
  const second = setup({ rates });
  second.engine.play();
  second.cache(0);             // already cached on the server: no sample, but history exists
  assert.equal(second.snap().playState, 'playing');
});

test('adaptive start: an underrun re-enters Buffering and recovers under the same rule', async () => {
  const { engine, audio, snap, cache, queue, timers } = setup();
  engine.play();
  queue(0, 1, 2, 3, 4, 5, 6, 7);
  timers.advance(150);
  cache(0);
  await flush();
  assert.equal(snap().playState, 'playing');
  timers.advance(1500);
  audio.end();                  // block 1 is not there yet: an underrun
  assert.equal(snap().cursor, 1);
  assert.equal(snap().playState, 'buffering');
  timers.advance(1500);
  cache(1);                     // 3 s for this block: the rate learnt is slower now
  assert.equal(snap().playState, 'buffering', 'one slow block is not enough buffer');
  cache(2);
  assert.equal(snap().playState, 'playing', 'two blocks outlast producing the other two');
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-1', 'resumes at the block that ran dry');
});

test('seamless seams: the next cached block is preloaded while the current one plays', async () => {
  const { engine, audio, cache, queue, timers } = setup();
  engine.play();
  queue(0, 1, 2, 3, 4, 5, 6, 7);
  timers.advance(100);
  cache(0);
  await flush();
  assert.deepEqual(audio.preloads, [], 'block 1 is not there yet');
  cache(1);
  assert.deepEqual(audio.preloads, ['/v1/audio/en-us-1'], 'preloaded as soon as it arrives');
  cache(2);
  audio.end();
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-1');
  await flush();
  assert.equal(audio.preloads.at(-1), '/v1/audio/en-us-2', 'and the one after, once block 1 sounds');
  engine.onMessage(status(3, 'skipped'));
  cache(4);
  audio.end();
  await flush();
  assert.equal(audio.preloads.at(-1), '/v1/audio/en-us-4', 'skipped blocks are passed over');
});

test('play enters Buffering, requests one batch, and starts after MIN_BUFFER_TO_START cached', async () => {
  const { engine, socket, audio, snap, cache } = setup();
  assert.equal(snap().playState, 'stopped');
  assert.equal(socket.synth().length, 0, 'nothing requested before play');
  engine.play();
  assert.equal(snap().playState, 'buffering');
  assert.deepEqual(socket.requested(), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(socket.synth()[0].model, 'espeak');
  assert.equal(socket.synth()[0].voice, 'en-us');
  assert.equal(socket.synth()[0].synthesis_mode, 'server');
  assert.ok(snap().blockStates.slice(0, 8).every((s) => s === 'queued'), 'marked before the server answers');
  cache(0, 1, 2);
  assert.equal(snap().playState, 'buffering');
  assert.deepEqual(snap().buffer, { have: 3, need: MIN_BUFFER_TO_START });
  assert.equal(audio.plays.length, 0);
  cache(3);
  assert.equal(snap().playState, 'playing');
  assert.equal(audio.plays.length, 1);
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-0');
  await flush();
});

test('buffering needs only the blocks that remain at the end of the document', () => {
  const { engine, snap, cache } = setup({ blocks: 10, start: 8 });
  engine.play();
  assert.equal(snap().playState, 'buffering');
  cache(8);
  assert.equal(snap().playState, 'buffering');
  cache(9);
  assert.equal(snap().playState, 'playing');
});

test('a block not yet cached ahead of blocks that are keeps buffering', () => {
  const { engine, snap, cache } = setup();
  engine.play();
  cache(1, 2, 3, 4, 5);
  assert.equal(snap().playState, 'buffering');
  cache(0);
  assert.equal(snap().playState, 'playing');
});

test('prefetch counts queued and processing blocks: no request while 8 are in flight', () => {
  const { engine, socket, cache } = setup();
  engine.play();
  for (let i = 0; i < 8; i++) engine.onMessage(status(i, i < 4 ? 'processing' : 'queued'));
  assert.equal(socket.synth().length, 1, 'the answers themselves trigger nothing new');
  cache(0, 1, 2, 3);
  assert.equal(socket.synth().length, 1);
});

test('refills with the next batch once fewer than REFILL_THRESHOLD are ready ahead', () => {
  const { engine, socket, audio, cache } = setup();
  engine.play();
  cache(0, 1, 2, 3, 4, 5, 6, 7);
  assert.equal(socket.synth().length, 1);
  audio.end(); // cursor 0 -> 1: 7 ready ahead
  assert.equal(socket.synth().length, 2);
  assert.deepEqual(socket.synth()[1].block_indices, [8, 9, 10, 11, 12, 13, 14, 15]);
  assert.equal(socket.synth()[1].cursor, 1);
  audio.end();
  assert.equal(socket.synth().length, 2, 'blocks 8-15 already count as ready');
  assert.equal(new Set(socket.requested()).size, socket.requested().length, 'no block requested twice');
  assert.equal(BATCH_SIZE, 8);
  assert.equal(REFILL_THRESHOLD, 8);
});

test('never requests a block twice while its request is outstanding', () => {
  const { engine, socket } = setup();
  engine.play();
  engine.pause();
  engine.play();
  engine.seek(0);
  engine.onConnection('open');
  const req = socket.requested();
  assert.equal(new Set(req).size, req.length);
});

test('pause keeps prefetching', async () => {
  const { engine, socket, audio, snap, cache } = setup();
  engine.play();
  cache(0, 1, 2, 3, 4, 5, 6, 7);
  await flush();
  engine.pause();
  assert.equal(snap().playState, 'paused');
  assert.equal(audio.paused, true);
  // while paused, an eviction puts a block back to pending: it is asked for again
  engine.onMessage({ type: 'evicted', document_id: 'doc1', block_indices: [7], model: 'espeak', voice: 'en-us' });
  assert.equal(snap().blockStates[7], 'cached', 'cached blocks are not evicted');
  engine.seek(3);
  assert.ok(socket.requested().includes(8), 'paused seek refills ahead');
  assert.equal(snap().playState, 'paused');
});

test('resume from pause continues the same block without buffering', async () => {
  const { engine, audio, snap, cache } = setup();
  engine.play();
  cache(0, 1, 2, 3);
  await flush();
  engine.pause();
  engine.play();
  assert.equal(snap().playState, 'playing');
  assert.equal(audio.plays.length, 1, 'resumed, not restarted');
});

test('toggle during buffering cancels to Stopped', () => {
  const { engine, snap } = setup();
  engine.toggle();
  assert.equal(snap().playState, 'buffering');
  engine.toggle();
  assert.equal(snap().playState, 'stopped');
});

test('highlight moves to the next block when one ends; elapsed and total use real durations', async () => {
  const { engine, audio, snap, cache } = setup({ blocks: 6 });
  assert.equal(snap().totalMs, 6000, 'estimated');
  engine.play();
  cache(0, 1, 2, 3, 4, 5);
  await flush();
  assert.equal(snap().totalMs, 6 * 2000, 'corrected by X-Duration-Ms of the fetched audio');
  audio.time(500);
  assert.equal(snap().elapsedMs, 500);
  audio.end();
  assert.equal(snap().cursor, 1);
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-1');
  assert.equal(snap().elapsedMs, 2000);
});

test('pauses follow structure: the next block starts after pause_ms / speed', async () => {
  const { engine, audio, snap, cache, timers } = setup({ blocks: 3 });
  const doc = makeDoc(3);
  doc.blocks[0].pause_ms = 600;   // a paragraph end
  doc.blocks[1].pause_ms = 0;
  engine.load(doc, { cursor: 0 });
  engine.setSpeed(2);
  engine.play();
  cache(0, 1, 2);
  await flush();
  const plays = audio.plays.length;
  audio.end();
  assert.equal(snap().cursor, 1, 'the highlight moves at once');
  assert.equal(audio.plays.length, plays, 'block 1 waits for the pause');
  timers.advance(299);
  assert.equal(audio.plays.length, plays);
  timers.advance(1);
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-1', '600 ms at 2x is 300 ms');
  await flush();
  audio.end();
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-2', 'no pause: no wait');
});

test('a pause or seek inside a structural pause wins over it', async () => {
  const { engine, audio, snap, cache, timers } = setup({ blocks: 4 });
  const doc = makeDoc(4);
  for (const b of doc.blocks) b.pause_ms = 500;
  engine.load(doc, { cursor: 0 });
  engine.play();
  cache(0, 1, 2, 3);
  await flush();
  audio.end();
  engine.pause();
  const plays = audio.plays.length;
  timers.advance(600);
  assert.equal(audio.plays.length, plays, 'paused in the gap: nothing starts');
  assert.equal(snap().playState, 'paused');
  engine.play();
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-1', 'play resumes at the next block');
  await flush();
  audio.end();
  engine.seek(3);
  timers.advance(600);
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-3', 'the seek wins; the gap timer does nothing');
});

test('seek sends cursor_moved and plays from the new block; a stale load never advances', async () => {
  const { engine, socket, audio, snap, cache } = setup({ audioOpts: { auto: false } });
  engine.play();
  cache(0, 1, 2, 3);
  const first = audio.lastPlay();
  engine.seek(20);
  assert.deepEqual(socket.cursorMoves(), [20]);
  assert.equal(snap().cursor, 20);
  assert.equal(snap().playState, 'buffering');
  assert.deepEqual(socket.synth().at(-1).block_indices, [20, 21, 22, 23, 24, 25, 26, 27]);
  assert.equal(socket.synth().at(-1).cursor, 20);
  // the old load finishes late and the old source ends: both ignored
  first.resolve();
  audio.listener.ended(first.token);
  audio.listener.time(first.token, 900);
  await flush();
  assert.equal(snap().cursor, 20);
  assert.equal(snap().positionMs, 0);
  cache(20, 21, 22, 23);
  assert.equal(snap().playState, 'playing');
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-20');
});

test('a stale failed load after a seek does not mark the new block as failed', async () => {
  const { engine, audio, snap, cache } = setup({ audioOpts: { auto: false } });
  engine.play();
  cache(0, 1, 2, 3, 10, 11, 12, 13);
  const first = audio.lastPlay();
  engine.seek(10);
  assert.equal(snap().playState, 'playing');
  first.reject(new Error('timeout'));
  await flush();
  assert.equal(snap().blockStates[0], 'cached');
  assert.equal(snap().blockStates[10], 'cached');
  assert.equal(snap().cursor, 10);
});

test('durations come from the audio itself, so a late fetch cannot corrupt another block', async () => {
  const socket = fakeSocket();
  const audio = fakeAudio();
  const fetches = new Map();
  audio.fetchResult = (url) => { const d = deferred(); fetches.set(url, d); return d.promise; };
  const engine = createEngine({ socket, audio, timers: fakeTimers() });
  engine.load(makeDoc(4));
  engine.onConnection('open');
  engine.play();
  for (let i = 0; i < 4; i++) engine.onMessage(status(i, 'cached', { duration_ms: undefined }));
  engine.seek(3);
  fetches.get('/v1/audio/en-us-0').resolve({ durationMs: 9000 });
  fetches.get('/v1/audio/en-us-3').resolve({ durationMs: 500 });
  await flush();
  const s = engine.getSnapshot();
  assert.equal(s.totalMs, 9000 + 1000 + 1000 + 500);
});

test('click a block while stopped plays from there', () => {
  const { engine, socket, snap } = setup();
  engine.playFrom(30);
  assert.equal(snap().cursor, 30);
  assert.equal(snap().playState, 'buffering');
  assert.deepEqual(socket.synth()[0].block_indices, [30, 31, 32, 33, 34, 35, 36, 37]);
});

test('next/prev move the cursor and clamp at the ends', () => {
  const { engine, snap, socket } = setup({ blocks: 3 });
  engine.prev();
  assert.equal(snap().cursor, 0);
  engine.next(); engine.next(); engine.next();
  assert.equal(snap().cursor, 2);
  assert.deepEqual(socket.cursorMoves(), [1, 2]);
});

test('voice switch while playing restarts the current block in the new voice; old statuses ignored', async () => {
  const { engine, socket, audio, snap, cache } = setup();
  engine.play();
  cache(0, 1, 2, 3, 4, 5, 6, 7);
  await flush();
  audio.end(); audio.end(); // cursor 2
  const before = socket.synth().length;
  engine.setVoice('espeak', 'de');
  assert.equal(snap().playState, 'buffering');
  assert.equal(snap().cursor, 2);
  assert.ok(snap().blockStates.every((s, i) => (i >= 2 && i < 10 ? s === 'queued' : s === 'pending')));
  const req = socket.synth()[before];
  assert.equal(req.voice, 'de');
  assert.deepEqual(req.block_indices, [2, 3, 4, 5, 6, 7, 8, 9]);
  // late answers for the old voice
  for (let i = 2; i < 12; i++) engine.onMessage(status(i, 'cached'));
  engine.onMessage({ type: 'evicted', document_id: 'doc1', block_indices: [8, 9], model: 'espeak', voice: 'en-us' });
  assert.equal(snap().playState, 'buffering');
  assert.ok(snap().blockStates.slice(2, 10).every((s) => s === 'queued'));
  for (let i = 2; i < 6; i++) engine.onMessage(status(i, 'cached', { voice: 'de', audio_url: `/v1/audio/de-${i}` }));
  assert.equal(snap().playState, 'playing');
  assert.equal(audio.lastPlay().url, '/v1/audio/de-2');
  assert.ok(audio.released.includes('/v1/audio/en-us-3'), 'old voice audio released');
});

test('voice switch: the elapsed time of what was heard stays; the rest is counted in the new voice', async () => {
  const { engine, audio, snap, cache } = setup({ blocks: 6 });
  const de = (i) => engine.onMessage(status(i, 'cached', { voice: 'de', audio_url: `/v1/audio/de-${i}`, duration_ms: 3000 }));
  audio.fetchResult = (url) => Promise.resolve({ durationMs: url.includes('/de-') ? 3000 : 1500 });
  engine.play();
  cache(0, 1, 2, 3, 4, 5);     // en-us: 1500 ms each, exact
  await flush();
  audio.end(); audio.end();    // blocks 0 and 1 heard in en-us
  assert.equal(snap().cursor, 2);
  const before = snap().elapsedMs;
  assert.equal(before, 2 * 1500);
  engine.setVoice('espeak', 'de');
  assert.ok(Math.abs(snap().elapsedMs - before) <= 1, `elapsed ${snap().elapsedMs} right after the switch, ${before} before`);
  assert.equal(snap().totalMs, before + 4 * 1000, 'the rest: de\'s estimate (nothing learnt for it yet)');
  for (let i = 0; i < 6; i++) de(i);   // de has the blocks behind the cursor too (query_states)
  await flush();
  assert.ok(Math.abs(snap().elapsedMs - before) <= 1, 'de\'s durations of heard blocks do not rewrite them');
  assert.equal(snap().totalMs, before + 4 * 3000, 'heard part + the rest in de, exact');
  audio.time(500);
  assert.equal(snap().elapsedMs, before + 500);
  audio.end();
  assert.equal(snap().elapsedMs, before + 3000, 'a block heard in de counts in de');
  engine.seek(0);              // a seek back: from the cursor on, everything is de
  assert.equal(snap().elapsedMs, 0);
  assert.equal(snap().totalMs, 6 * 3000);
});

test('voice switch while buffering re-requests in the new voice and keeps buffering', () => {
  const { engine, socket, snap } = setup();
  engine.play();
  engine.setVoice('flite', 'slt');
  assert.equal(snap().playState, 'buffering');
  const last = socket.synth().at(-1);
  assert.equal(last.model, 'flite');
  assert.equal(last.voice, 'slt');
});

test('voice switch while stopped requests nothing', () => {
  const { engine, socket } = setup();
  engine.setVoice('espeak', 'fr-fr');
  assert.equal(socket.synth().length, 0);
  assert.equal(engine.getSnapshot().voice, 'fr-fr');
});

test('skipped and recoverable error blocks are passed over', async () => {
  const { engine, audio, snap } = setup({ blocks: 8 });
  engine.play();
  engine.onMessage(status(0, 'cached'));
  engine.onMessage(status(1, 'skipped'));
  engine.onMessage(status(2, 'error', { error: 'engine crashed', recoverable: true }));
  engine.onMessage(status(3, 'cached'));
  engine.onMessage(status(4, 'cached'));
  assert.equal(snap().playState, 'buffering', 'needs 4 playable blocks');
  engine.onMessage(status(5, 'cached'));
  assert.equal(snap().playState, 'playing');
  await flush();
  audio.end();
  assert.equal(snap().cursor, 3);
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-3');
  assert.equal(snap().blockStates[1], 'skipped');
  assert.equal(snap().blockStates[2], 'error');
  assert.equal(snap().error, null);
});

test('an unrecoverable error stops playback with a message', async () => {
  const { engine, snap, cache } = setup();
  engine.play();
  cache(0, 1, 2, 3);
  await flush();
  engine.onMessage(status(4, 'error', { error: 'Quota exceeded', recoverable: false }));
  assert.equal(snap().playState, 'stopped');
  assert.equal(snap().error.kind, 'fatal');
  assert.match(snap().error.message, /Quota/);
});

test('a server error message while buffering stops and frees the requested blocks', () => {
  const { engine, snap } = setup();
  engine.play();
  engine.onMessage({ type: 'error', error: 'unknown voice' });
  assert.equal(snap().playState, 'stopped');
  assert.equal(snap().error.message, 'unknown voice');
  assert.ok(snap().blockStates.every((s) => s === 'pending'));
});

test('end of document stops and a later play starts again from the beginning', async () => {
  const { engine, audio, snap, socket } = setup({ blocks: 2 });
  engine.play();
  engine.onMessage(status(0, 'cached'));
  engine.onMessage(status(1, 'cached'));
  await flush();
  assert.equal(snap().playState, 'playing');
  audio.end();
  audio.end();
  assert.equal(snap().playState, 'stopped');
  assert.equal(snap().finished, true);
  assert.equal(snap().cursor, 1);
  engine.play();
  assert.equal(snap().cursor, 0);
  assert.equal(snap().playState, 'playing', 'already cached: no buffering');
  assert.ok(socket.cursorMoves().includes(0));
});

test('evicted blocks go back to pending and are requested again when needed', () => {
  const { engine, socket, snap } = setup();
  engine.play();
  engine.pause(); // buffering -> stopped
  engine.play();
  engine.onMessage({ type: 'evicted', document_id: 'doc1', block_indices: [5, 6, 7], model: 'espeak', voice: 'en-us' });
  assert.deepEqual(socket.synth().at(-1).block_indices, [5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(snap().blockStates[5], 'queued');
});

test('underrun while playing goes back to buffering and resumes when ready', async () => {
  const { engine, audio, snap, cache } = setup({ blocks: 12 });
  engine.play();
  cache(0, 1, 2, 3);
  await flush();
  audio.end(); audio.end(); audio.end(); audio.end();
  assert.equal(snap().cursor, 4);
  assert.equal(snap().playState, 'buffering');
  cache(4, 5, 6, 7);
  assert.equal(snap().playState, 'playing');
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-4');
});

test('a failed load is retried through the server, then passed over', async () => {
  const { engine, audio, snap, socket } = setup({ blocks: 6, audioOpts: { auto: false } });
  engine.play();
  for (let i = 0; i < 6; i++) engine.onMessage(status(i, 'cached'));
  audio.lastPlay().reject(new Error('decode error'));
  await flush();
  assert.equal(snap().playState, 'buffering');
  assert.equal(snap().blockStates[0], 'queued');
  assert.equal(socket.requested().filter((i) => i === 0).length, 2);
  engine.onMessage(status(0, 'cached'));
  audio.lastPlay().reject(new Error('decode error'));
  await flush();
  engine.onMessage(status(0, 'cached'));
  audio.lastPlay().reject(new Error('decode error'));
  await flush();
  assert.equal(snap().blockStates[0], 'error');
  assert.equal(snap().cursor, 1);
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-1');
});

test('a failed download of the playing block counts as one failure, not two', async () => {
  const socket = fakeSocket();
  const audio = fakeAudio({ auto: false });
  audio.fetchResult = () => Promise.reject(new Error('network'));
  audio.play = (url, { token }) => { audio.plays.push({ url, token }); return audio.fetch(url); };
  const engine = createEngine({ socket, audio, timers: fakeTimers() });
  engine.load(makeDoc(4));
  engine.onConnection('open');
  engine.play();
  for (let i = 0; i < 4; i++) engine.onMessage(status(i, 'cached'));
  await flush();
  assert.equal(engine.getSnapshot().blockStates[0], 'queued', 'asked again, not given up');
  assert.equal(engine.getSnapshot().playState, 'buffering');
  assert.equal(socket.requested().filter((i) => i === 0).length, 2);
});

test('connection loss: keeps playing; Reconnecting shows only when it lasts or the buffer is low', async () => {
  const { engine, audio, snap, timers, cache } = setup();
  engine.play();
  cache(...Array.from({ length: 16 }, (_, i) => i));
  await flush();
  engine.onConnection('reconnecting');
  assert.equal(snap().playState, 'playing');
  assert.equal(snap().connection.reconnecting, false, 'plenty of buffer, short outage');
  timers.advance(RECONNECT_NOTICE_MS);
  assert.equal(snap().connection.reconnecting, true);
  engine.onConnection('open');
  assert.equal(snap().connection.reconnecting, false);
  // buffer low: shown at once
  for (let i = 0; i < 14; i++) audio.end();
  engine.onConnection('reconnecting');
  assert.equal(snap().connection.reconnecting, true);
  engine.onConnection('failed');
  assert.equal(snap().error.kind, 'connection');
  engine.onConnection('open');
  assert.equal(snap().error, null);
});

test('the first connection is not announced as a reconnect unless it takes long', () => {
  const socket = fakeSocket();
  const timers = fakeTimers();
  const engine = createEngine({ socket, audio: fakeAudio(), timers });
  engine.load(makeDoc(10));
  engine.onConnection('connecting');
  engine.play();
  assert.equal(engine.getSnapshot().connection.reconnecting, false);
  timers.advance(RECONNECT_NOTICE_MS);
  assert.equal(engine.getSnapshot().connection.reconnecting, true);
  assert.equal(engine.getSnapshot().connection.status, 'connecting');
  engine.onConnection('open');
  assert.equal(engine.getSnapshot().connection.reconnecting, false);
  assert.equal(socket.synth().length, 1, 'the request made while connecting went to the socket once');
});

test('speed is clamped to 0.5-3.0 and reaches the audio output', () => {
  const { engine, audio, snap } = setup();
  engine.setSpeed(5);
  assert.equal(snap().speed, 3);
  engine.setSpeed(0.1);
  assert.equal(snap().speed, 0.5);
  engine.faster();
  assert.equal(snap().speed, 0.75);
  assert.equal(audio.speed, 0.75);
});

test('word highlight follows word_timings of the current block', async () => {
  const { engine, audio, snap } = setup({ blocks: 4 });
  engine.play();
  const wt = [{ start_ms: 0, end_ms: 300, offset: 0, length: 5 }, { start_ms: 300, end_ms: 700, offset: 6, length: 2 }];
  engine.onMessage(status(0, 'cached', { word_timings: wt }));
  for (let i = 1; i < 4; i++) engine.onMessage(status(i, 'cached'));
  await flush();
  audio.time(100);
  assert.deepEqual({ ...snap().word }, { idx: 0, offset: 0, length: 5 });
  audio.time(350);
  assert.deepEqual({ ...snap().word }, { idx: 0, offset: 6, length: 2 });
  audio.end();
  assert.equal(snap().word, null);
});

test('snapshots are immutable and block states are shared until they change', async () => {
  const { engine, audio, snap, cache } = setup();
  engine.play();
  cache(0, 1, 2, 3);
  await flush();
  const a = snap();
  assert.ok(Object.isFrozen(a));
  assert.ok(Object.isFrozen(a.blockStates));
  audio.time(10);
  assert.equal(snap().blockStates, a.blockStates);
  assert.throws(() => { 'use strict'; a.blockStates[0] = 'x'; });
});

test('audio far behind the cursor is released', async () => {
  const { engine, audio, cache } = setup();
  engine.play();
  cache(...Array.from({ length: 20 }, (_, i) => i));
  await flush();
  for (let i = 0; i < 12; i++) audio.end();
  assert.ok(audio.released.includes('/v1/audio/en-us-0'));
  assert.ok(!audio.released.includes('/v1/audio/en-us-8'));
});

test('unload forgets the document on the socket', () => {
  const { engine, socket, snap } = setup();
  engine.unload();
  assert.deepEqual(socket.forgotten, ['doc1']);
  assert.equal(snap().docId, null);
});

test('sleep timer: pauses when the minutes have passed; off cancels it', async () => {
  const { engine, audio, snap, cache, timers } = setup();
  engine.play();
  cache(0, 1, 2, 3);
  await flush();
  engine.setSleep(15);
  assert.equal(snap().sleep.mode, 15);
  assert.equal(snap().sleep.endsAt, timers.now() + 15 * 60000);
  timers.advance(15 * 60000 - 1);
  assert.equal(snap().playState, 'playing');
  timers.advance(1);
  assert.equal(snap().playState, 'paused');
  assert.equal(audio.paused, true);
  assert.equal(snap().sleep, null);
  engine.play();
  engine.setSleep(30);
  engine.setSleep(null);
  timers.advance(31 * 60000);
  assert.equal(snap().playState, 'playing', 'turned off');
});

test('sleep timer: end of chapter pauses where the next chapter starts', async () => {
  const { engine, audio, snap, cache } = setup({ blocks: 10 });
  engine.setChapters([0, 3, 7]);
  assert.equal(snap().hasChapters, true);
  engine.play();
  cache(0, 1, 2, 3, 4, 5, 6, 7);
  await flush();
  engine.setSleep('chapter');
  audio.end();
  audio.end();
  assert.equal(snap().playState, 'playing');
  audio.end();                   // block 2 ends: block 3 is the next chapter's heading
  assert.equal(snap().playState, 'paused');
  assert.equal(snap().cursor, 3);
  assert.equal(snap().sleep, null, 'the timer is used up');
  engine.play();
  assert.equal(snap().playState, 'playing');
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-3', 'Play goes on with the next chapter');
});

test('skip references: asked for in every synthesize; switching it asks again from the cursor', async () => {
  const { engine, socket, snap, cache } = setup();
  engine.setSkipReferences(true);
  engine.play();
  assert.equal(socket.synth()[0].skip_references, true);
  assert.equal(snap().skipReferences, true);
  cache(0, 1, 2, 3);
  await flush();
  assert.equal(snap().playState, 'playing');
  socket.clear();
  engine.setSkipReferences(false);
  assert.equal(snap().playState, 'buffering', 'other audio: buffering again');
  assert.equal(snap().blockStates[0], 'queued');
  assert.deepEqual(socket.requested().slice(0, 2), [0, 1]);
  assert.equal('skip_references' in socket.synth()[0], false);
});

test('skip references: a late answer for the setting just left is never played', async () => {
  const { engine, audio, snap, queue, socket } = setup();
  engine.play();
  queue(0, 1, 2, 3, 4, 5, 6, 7);
  engine.setSkipReferences(true);   // block 0's job for "spoken" is still running
  assert.equal(snap().blockStates[0], 'queued');
  // that job finishes: its audio says "[12]"
  engine.onMessage(status(0, 'cached', { skip_references: false, audio_url: '/v1/audio/with-12' }));
  engine.onMessage(status(1, 'processing', { skip_references: false }));
  assert.equal(snap().blockStates[0], 'queued', 'not this setting\'s audio');
  assert.equal(snap().blockStates[1], 'queued');
  // the server drops this connection's queued jobs of the old setting: not the new requests
  const asked = socket.requested().length;
  engine.onMessage({ type: 'evicted', document_id: 'doc1', block_indices: [2, 3], model: 'espeak', voice: 'en-us',
    skip_references: false });
  assert.deepEqual(snap().blockStates.slice(2, 4), ['queued', 'queued']);
  assert.equal(socket.requested().length, asked, 'nothing asked again');
  for (const i of [0, 1, 2, 3]) engine.onMessage(status(i, 'cached', { skip_references: true }));
  await flush();
  assert.equal(snap().playState, 'playing');
  assert.deepEqual(audio.plays.map((p) => p.url), ['/v1/audio/en-us-0']);
  assert.ok(!audio.fetches.includes('/v1/audio/with-12'), 'not even fetched');
});

test('time: estimates learn the voice\'s pace from exact durations, and pauses count', () => {
  const paces = createPaceBook();
  const engine = createEngine({ socket: fakeSocket(), audio: fakeAudio(), timers: fakeTimers(), paces });
  const text = 'x'.repeat(100);
  const doc = { id: 'doc1', title: 'T', blocks: Array.from({ length: 10 }, (_, idx) => ({ idx, text, est_duration_ms: 6500, pause_ms: 100 })) };
  engine.load(doc);
  engine.onConnection('open');
  assert.equal(engine.getSnapshot().totalMs, 10 * 6500 + 9 * 100, 'the server\'s estimate plus the pauses between blocks');
  // three blocks made: 100 characters in 5,160 ms is 50 ms a character after the pads
  for (const i of [0, 1, 2]) engine.onMessage(status(i, 'cached', { duration_ms: PAD_MS + 5000 }));
  assert.equal(engine.getSnapshot().totalMs, 10 * 5160 + 9 * 100, 'learnt, exact where known');
  // another voice has learnt nothing yet: the server's estimate again
  engine.setVoice('espeak', 'de');
  assert.equal(engine.getSnapshot().totalMs, 10 * 6500 + 9 * 100);
  // and what was learnt persists through storage
  const mem = new Map();
  const storage = { getItem: (k) => mem.get(k) ?? null, setItem: (k, v) => mem.set(k, v) };
  const a = createPaceBook({ storage });
  a.add('espeak/en-us', PAD_MS + 5000, 250);
  assert.equal(a.perChar('espeak/en-us'), 20);
  assert.equal(createPaceBook({ storage }).perChar('espeak/en-us'), null, 'saved a moment later, not on every block');
});

test('on open the page asks what the server has (query_states) and shows it, asking for no work', () => {
  const { socket, snap, engine } = setup({ blocks: 300, start: 100 });
  const queries = socket.sent.filter((m) => m.type === 'query_states');
  const asked = queries.flatMap((m) => m.block_indices);
  assert.ok(queries.every((m) => m.block_indices.length <= 64 && m.model === 'espeak' && m.voice === 'en-us'));
  assert.equal(asked[0], 84, 'from 16 behind the cursor');
  assert.equal(asked.length, 16 + 176);
  assert.equal(socket.sent.filter((m) => m.type === 'synthesize').length, 0, 'stopped: nothing requested');
  engine.onMessage(status(120, 'cached', { duration_ms: 2000 }));
  assert.equal(snap().blockStates[120], 'cached');
  assert.equal(snap().playState, 'stopped');
  // asked once per block and voice: a seek nearby adds only the new blocks
  socket.sent.length = 0;
  engine.seek(110);
  assert.deepEqual(socket.sent.filter((m) => m.type === 'query_states').flatMap((m) => m.block_indices),
    Array.from({ length: 10 }, (_, i) => 276 + i));
});

test('query_states is asked again when the skip setting is set after the socket opened', () => {
  // the reader sets the per-document toggle after load: answers to the first query are
  // for "spoken" and ignored, so the blocks must be asked about again for "skipped"
  const { socket, snap, engine } = setup({ blocks: 10 });
  assert.ok(socket.sent.some((m) => m.type === 'query_states' && !m.skip_references));
  socket.clear();
  engine.setSkipReferences(true);
  const again = socket.sent.filter((m) => m.type === 'query_states');
  assert.deepEqual(again.flatMap((m) => m.block_indices), [...Array(10).keys()]);
  assert.ok(again.every((m) => m.skip_references === true));
  engine.onMessage(status(3, 'cached', { skip_references: true }));
  assert.equal(snap().blockStates[3], 'cached');
});

test('seamless seams: a block arriving during a structural pause does not displace the preloaded next one', async () => {
  const { engine, audio, cache, queue, timers } = setup();
  const doc = makeDoc(20);
  doc.blocks[0].pause_ms = 500;
  engine.load(doc);
  engine.play();
  queue(0, 1, 2, 3, 4, 5, 6, 7);
  timers.advance(100);
  cache(0, 1);
  await flush();
  assert.equal(audio.preloads.at(-1), '/v1/audio/en-us-1');
  audio.end();                  // block 0 ends: 500 ms of pause before block 1
  cache(2);                     // arrives in the pause
  assert.equal(audio.preloads.at(-1), '/v1/audio/en-us-1', 'block 1 stays preloaded');
  timers.advance(500);
  assert.equal(audio.lastPlay().url, '/v1/audio/en-us-1');
  await flush();
  assert.equal(audio.preloads.at(-1), '/v1/audio/en-us-2');
});
