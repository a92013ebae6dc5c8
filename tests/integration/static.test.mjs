// The web player's files (SPEC sections 3 and 9): `/` is the page, with one <audio>; its
// assets are served with the right types; nothing outside the web directory is reachable.
import assert from 'node:assert/strict';
import { itest } from './harness.mjs';

itest('the page and its assets are served, and nothing else', async (t, h) => {
  const s = await h.start();
  const page = await s.get('/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.equal((page.text.match(/<audio\b/g) || []).length, 1, 'one <audio> element');

  // every local script and stylesheet the page names is served with a fitting type
  const refs = [...page.text.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"/g)]
    .map((m) => m[1]).filter((u) => !/^(https?:)?\/\//.test(u) && !u.startsWith('data:'));
  assert.ok(refs.length > 0, 'the page loads its code');
  for (const ref of refs) {
    const r = await s.get(new URL(ref, s.url + '/').pathname);
    assert.equal(r.status, 200, ref);
    if (ref.endsWith('.js') || ref.endsWith('.mjs')) assert.match(r.headers.get('content-type'), /javascript/, ref);
    if (ref.endsWith('.css')) assert.match(r.headers.get('content-type'), /^text\/css/, ref);
  }

  for (const path of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd',
    '/.git/config', '/no-such-file.js']) {
    const r = await s.get(path);
    assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
    assert.doesNotMatch(r.text, /root:x:0:0/);
  }
});

itest('the browser voices are vendored from node_modules and served with their types', async (t, h) => {
  const s = await h.start();
  for (const [path, type] of [['/tts-worker.js', /javascript/], ['/browser-tts.js', /javascript/],
    ['/ogg-opus.js', /javascript/], ['/vendor/espeak-ng/espeak-ng.js', /javascript/],
    ['/vendor/espeak-ng/espeak-ng.data', /^application\/octet-stream/]]) {
    const r = await s.http('HEAD', path);
    assert.equal(r.status, 200, `${path} (run npm ci: scripts/vendor-web.mjs puts it in place)`);
    assert.match(r.headers.get('content-type'), type, path);
  }
  const data = await s.http('HEAD', '/vendor/espeak-ng/espeak-ng.data');
  assert.match(data.headers.get('cache-control'), /max-age=86400/, 'the 24 MB voice data is cached');
  assert.ok(Number(data.headers.get('content-length')) > 1e6);
});
