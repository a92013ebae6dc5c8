// Unit tests of web/ws-client.js with a fake WebSocket class and manual timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWsClient, backoffDelay } from '../../web/ws-client.js';
import { fakeWebSocketClass, fakeTimers } from './fakes.mjs';

function setup(opts = {}) {
  const WS = fakeWebSocketClass();
  const timers = fakeTimers();
  const client = createWsClient({ url: 'ws://x/v1/ws/tts', WebSocketImpl: WS, timers, random: () => 0.5, ...opts });
  const states = [];
  const messages = [];
  client.on('state', (s) => states.push(s));
  client.on('message', (m) => messages.push(m));
  return { WS, timers, client, states, messages };
}

const synth = (indices, extra = {}) => ({
  type: 'synthesize', document_id: 7, block_indices: indices, cursor: indices[0] ?? 0,
  model: 'espeak', voice: 'en-us', synthesis_mode: 'server', ...extra,
});
const st = (idx, status, extra = {}) => ({
  type: 'status', document_id: 7, block_idx: idx, status, model: 'espeak', voice: 'en-us', ...extra,
});

test('connects, sends nothing before open, then sends requests made while connecting', () => {
  const { WS, client, states } = setup();
  client.connect();
  assert.equal(WS.instances.length, 1);
  assert.equal(WS.last().url, 'ws://x/v1/ws/tts');
  client.send(synth([0, 1, 2]));
  client.send({ type: 'hello' });
  assert.deepEqual(WS.last().sent, []);
  WS.last().open();
  assert.deepEqual(states, ['connecting', 'open']);
  assert.deepEqual(WS.last().sent.map((m) => m.type), ['synthesize', 'hello']);
  assert.deepEqual(WS.last().sent[0].block_indices, [0, 1, 2]);
});

test('reconnects with exponential backoff and re-sends pending blocks', () => {
  const { WS, timers, client, states } = setup();
  client.connect();
  WS.last().open();
  client.send(synth([0, 1, 2, 3]));
  WS.last().receive(st(0, 'cached', { audio_url: '/a' }));
  WS.last().receive(st(1, 'queued'));
  WS.last().drop();
  assert.equal(states.at(-1), 'reconnecting');
  assert.equal(WS.instances.length, 1, 'waits before reconnecting');
  timers.advance(250);
  assert.equal(WS.instances.length, 2);
  WS.last().drop();
  timers.advance(499);
  assert.equal(WS.instances.length, 2, 'second delay doubles');
  timers.advance(1);
  assert.equal(WS.instances.length, 3);
  WS.last().open();
  assert.equal(states.at(-1), 'open');
  const resent = WS.last().sent;
  assert.equal(resent.length, 1);
  assert.deepEqual(resent[0].block_indices, [1, 2, 3], 'cached block 0 is not re-sent');
  assert.equal(resent[0].model, 'espeak');
});

test('backoff is capped and jittered', () => {
  const o = { initialDelayMs: 250, maxDelayMs: 5000 };
  assert.equal(backoffDelay(1, o, () => 0.5), 250);
  assert.equal(backoffDelay(3, o, () => 0.5), 1000);
  assert.equal(backoffDelay(20, o, () => 0.5), 5000);
  assert.equal(backoffDelay(20, o, () => 0), 3750);
  assert.equal(backoffDelay(20, o, () => 1), 6250);
});

test('gives up after maxAttempts and retry() starts again', () => {
  const { WS, timers, client, states } = setup({ maxAttempts: 3 });
  client.connect();
  for (let i = 0; i < 3; i++) { WS.last().drop(); timers.advance(10000); }
  WS.last().drop();
  assert.equal(states.at(-1), 'failed');
  const count = WS.instances.length;
  timers.advance(60000);
  assert.equal(WS.instances.length, count, 'no more attempts');
  client.retry();
  assert.equal(WS.instances.length, count + 1);
  WS.last().open();
  assert.equal(client.state, 'open');
});

test('a socket stuck connecting is abandoned after the timeout', () => {
  const { WS, timers, client } = setup({ connectTimeoutMs: 1000 });
  client.connect();
  timers.advance(1000);
  assert.equal(WS.instances[0].closed, true);
  timers.advance(300);
  assert.equal(WS.instances.length, 2);
});

test('requests made while offline are sent once on reconnect, not queued twice', () => {
  const { WS, timers, client } = setup();
  client.connect();
  WS.last().open();
  WS.last().drop();
  client.send(synth([4, 5]));
  client.send({ type: 'cursor_moved', document_id: 7, cursor: 4 });
  client.send(synth([6, 7], { cursor: 4 }));
  timers.advance(300);
  WS.last().open();
  const sent = WS.last().sent;
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0].block_indices, [4, 5, 6, 7]);
  assert.equal(sent[0].cursor, 4);
});

test('pending outside the eviction window is reported evicted instead of re-sent', () => {
  const { WS, timers, client, messages } = setup();
  client.connect();
  WS.last().open();
  client.send(synth([0, 1, 2]));
  WS.last().drop();
  client.send({ type: 'cursor_moved', document_id: 7, cursor: 100 });
  client.send(synth([100, 101], { cursor: 100 }));
  timers.advance(300);
  WS.last().open();
  assert.deepEqual(WS.last().sent.map((m) => m.block_indices), [[100, 101]]);
  const ev = messages.find((m) => m.type === 'evicted');
  assert.deepEqual(ev.block_indices, [0, 1, 2]);
  assert.equal(ev.voice, 'en-us');
});

test('statuses and evictions for an old model/voice are dropped', () => {
  const { WS, client, messages } = setup();
  client.connect();
  WS.last().open();
  client.send(synth([0, 1]));
  client.send(synth([0, 1], { voice: 'de' }));
  WS.last().receive(st(0, 'cached', { audio_url: '/a' }));
  WS.last().receive({ type: 'evicted', document_id: 7, block_indices: [1], model: 'espeak', voice: 'en-us' });
  WS.last().receive(st(0, 'cached', { voice: 'de', audio_url: '/b' }));
  assert.deepEqual(messages.map((m) => m.voice), ['de']);
  assert.deepEqual(client.pendingFor(7), [1], 'the voice switch dropped the old pending set');
});

test('more than 32 indices are split into several requests', () => {
  const { WS, client } = setup();
  client.connect();
  WS.last().open();
  client.send(synth(Array.from({ length: 40 }, (_, i) => i)));
  assert.deepEqual(WS.last().sent.map((m) => m.block_indices.length), [32, 8]);
});

test('forget stops re-sending a document; close stops reconnecting', () => {
  const { WS, timers, client, states } = setup();
  client.connect();
  WS.last().open();
  client.send(synth([0, 1]));
  client.forget(7);
  WS.last().drop();
  timers.advance(300);
  WS.last().open();
  assert.deepEqual(WS.last().sent, []);
  client.close();
  assert.equal(states.at(-1), 'closed');
  timers.advance(60000);
  assert.equal(WS.instances.length, 2);
});

test('invalid JSON frames are ignored; other messages pass through', () => {
  const { WS, client, messages } = setup();
  client.connect();
  WS.last().open();
  WS.last().onmessage({ data: 'not json' });
  WS.last().receive({ type: 'error', error: 'bad' });
  assert.deepEqual(messages, [{ type: 'error', error: 'bad' }]);
});

test('a reconnect re-sends pending blocks with skip_references when they were asked with it', () => {
  const { WS, timers, client } = setup();
  client.connect();
  WS.last().open();
  client.send(synth([0, 1], { skip_references: true }));
  assert.equal(WS.last().sent[0].skip_references, true);
  WS.last().drop();
  timers.advance(250);
  WS.last().open();
  assert.deepEqual(WS.last().sent[0].block_indices, [0, 1]);
  assert.equal(WS.last().sent[0].skip_references, true);
  client.send(synth([2]));   // the setting switched off: a fresh pending set without it
  assert.equal('skip_references' in WS.last().sent.at(-1), false);
  assert.deepEqual(client.pendingFor(7), [2]);
});
