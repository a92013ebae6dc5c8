// Unit tests of the word-highlight offset mapping (spoken text -> displayed text).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapOffset } from '../../web/views/document-text.js';

test('identical texts map offsets directly', () => {
  assert.deepEqual(mapOffset('Hello brave world', 'Hello brave world', 6, 5), { start: 6, end: 11 });
});

test('the k-th occurrence of a word is found in a displayed text that differs', () => {
  const spoken = 'the cat saw the dog and the bird';
  const shown = 'the  cat saw\nthe dog and the bird';
  const third = spoken.lastIndexOf('the');
  assert.deepEqual(mapOffset(spoken, shown, third, 3), { start: shown.lastIndexOf('the'), end: shown.lastIndexOf('the') + 3 });
  assert.deepEqual(mapOffset(spoken, shown, 4, 3), { start: 5, end: 8 });
});

test('UTF-16 offsets: words after astral characters and accents', () => {
  const spoken = 'Café 😀 déjà vu';
  const shown = 'Café 😀 déjà  vu';
  const off = spoken.indexOf('vu');
  assert.equal(off, 13);
  assert.deepEqual(mapOffset(spoken, shown, off, 2), { start: 14, end: 16 });
});

test('a word missing from the display gives no highlight', () => {
  assert.equal(mapOffset('one two', 'one', 4, 3), null);
  assert.equal(mapOffset('one two', 'one', 3, 1), null);
});
