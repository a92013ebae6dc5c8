// The picker's order and the first voice of a reader who never chose one (web/voice-order.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortOptions, naturalDefault } from '../../web/voice-order.js';

const models = [
  { slug: 'espeak', voices: [{ slug: 'en-us', lang: 'en-US' }, { slug: 'de', lang: 'de' }, { slug: 'fr-fr', lang: 'fr-FR' }] },
  { slug: 'flite', voices: [{ slug: 'slt', lang: 'en-US' }] },
  { slug: 'piper', voices: [{ slug: 'de_DE-thorsten-medium', lang: 'de_DE' }, { slug: 'en_GB-alba-medium', lang: 'en_GB' }] },
  { slug: 'kokoro', voices: [{ slug: 'af_heart', lang: 'en-US' }, { slug: 'bf_emma', lang: 'en-GB' }] },
  { slug: 'browser', voices: [{ slug: 'en-us', lang: 'en-US' }] },
];

test('natural voices come first in a language group, browser voices last', () => {
  const opts = sortOptions([
    { model: 'espeak', label: 'English (America)' }, { model: 'browser', label: 'English (America)' },
    { model: 'flite', label: 'SLT (female)' }, { model: 'kokoro', label: 'Heart' },
    { model: 'piper', label: 'Alba' }, { model: 'espeak', label: 'English (Caribbean)' },
  ]);
  assert.deepEqual(opts.map((o) => `${o.model}:${o.label}`), [
    'kokoro:Heart', 'piper:Alba', 'flite:SLT (female)', 'espeak:English (America)', 'espeak:English (Caribbean)',
    'browser:English (America)']);
});

test('a reader who never chose hears the most natural voice of their language, region first', () => {
  assert.deepEqual(naturalDefault(models, 'en-US'), { model: 'kokoro', voice: 'af_heart' });
  assert.deepEqual(naturalDefault(models, 'en-GB'), { model: 'kokoro', voice: 'bf_emma' });
  assert.deepEqual(naturalDefault(models, 'de-AT'), { model: 'piper', voice: 'de_DE-thorsten-medium' });
  assert.deepEqual(naturalDefault(models, 'de-DE'), { model: 'piper', voice: 'de_DE-thorsten-medium' });
});

test('no natural voice of that language, or none installed: the caller keeps its default', () => {
  assert.equal(naturalDefault(models, 'fr-FR'), null);
  assert.equal(naturalDefault(models.filter((m) => !['piper', 'kokoro'].includes(m.slug)), 'en-US'), null);
  assert.equal(naturalDefault([{ slug: 'kokoro', available: false, voices: [{ slug: 'af_heart', lang: 'en-US' }] }], 'en-US'), null);
  assert.equal(naturalDefault([], ''), null);
});
