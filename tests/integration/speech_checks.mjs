// speech_checks — what the natural-voice suites (piper.test.mjs, kokoro.test.mjs) check on
// every block they synthesize: the final status, audio that decodes as long as the status
// says, and word timings in order, inside the audio, on every word of the text.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { synth, probe, decodes } from './harness.mjs';

/** Synthesizes block 0 of text with model/voice; the final status and the block text. */
export async function speakBlock(h, s, text, model, voice) {
  const d = await s.createDoc(text, 'text');
  const doc = await s.getDoc(d.id);
  const c = await h.ws(s);
  c.send(synth(d.id, [0], { model, voice }));
  const st = (await c.waitFinal(d.id, [0], { timeoutMs: 30_000 })).get(0).at(-1);
  return { st, text: doc.blocks[0].text };
}

/** Fetches the audio: mono Ogg Opus that decodes, as long as the status says. Its bytes. */
export async function checkAudio(h, s, st, what) {
  const a = await s.get(st.audio_url);
  assert.equal(a.status, 200, what);
  const file = join(await h.tmp(), 'a.ogg');
  await writeFile(file, a.body);
  const p = await probe(file);
  assert.equal(p.codec, 'opus', what);
  assert.equal(p.channels, 1, what);
  assert.ok(await decodes(file), `${what} decodes`);
  assert.ok(Math.abs(p.duration_s * 1000 - st.duration_ms) < 40, `${what}: ${p.duration_s} s vs ${st.duration_ms} ms`);
  return a.body;
}

/** Timings ordered, inside the audio and on the text, and every word has one. */
export function checkTimings(st, text, what) {
  const w = st.word_timings;
  assert.ok(Array.isArray(w) && w.length > 0, `${what}: word_timings`);
  let prev = null;
  for (const t of w) {
    assert.ok(t.start_ms >= 0 && t.end_ms > t.start_ms && t.end_ms <= st.duration_ms, `${what}: ${JSON.stringify(t)} in ${st.duration_ms} ms`);
    assert.ok(t.offset >= 0 && t.length > 0 && t.offset + t.length <= text.length, `${what}: ${JSON.stringify(t)}`);
    if (prev) {
      assert.ok(t.start_ms >= prev.end_ms - 1, `${what}: in time order`);
      assert.ok(t.offset >= prev.offset + prev.length, `${what}: in text order`);
    }
    prev = t;
  }
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu))
    assert.ok(w.some((t) => t.offset <= m.index && t.offset + t.length >= m.index + m[0].length),
      `${what}: "${m[0]}" has a timing`);
}
