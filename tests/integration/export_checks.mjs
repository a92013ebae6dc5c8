// Shared by the export tests: wait for a server export to finish, and read an exported
// book's chapters back with ffprobe after checking that it decodes.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, run, decodes } from './harness.mjs';

/** Polls the export's status URL until it is done (an `error` fails the test): its status. */
export async function exportFinished(s, statusUrl) {
  return eventually(async () => {
    const r = await s.get(statusUrl);
    assert.equal(r.status, 200, r.text);
    assert.notEqual(r.json.status, 'error', r.json.error);
    return r.json.status === 'done' && r.json;
  }, 'the export to finish');
}

/** Writes the book's bytes to a temp file, asserts it decodes, returns its chapter titles. */
export async function bookChapters(h, body, name = 'book.m4b') {
  const out = join(await h.tmp(), name);
  writeFileSync(out, body);
  assert.ok(await decodes(out), `the ${name} decodes`);
  const probe = await run('ffprobe', ['-v', 'error', '-show_chapters', '-of', 'json', out]);
  return JSON.parse(probe.stdout).chapters.map((c) => c.tags.title);
}
