// vendor-web — copies the page's third-party runtime files from node_modules into web/vendor/
// (run by `npm ci` / `npm install` as the postinstall script, so a clean clone gets them the
// same way CI does). Never fetched from a CDN: the server serves them itself.
//   @echogarden/espeak-ng-emscripten -> web/vendor/espeak-ng/ (espeak-ng as WebAssembly, its
//   voice data, its licence): the synthesizer of model `browser` (web/tts-worker.js).
import { copyFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vendors = [
  { from: 'node_modules/@echogarden/espeak-ng-emscripten', to: 'web/vendor/espeak-ng',
    files: ['espeak-ng.js', 'espeak-ng.data', 'COPYING'] },
];
for (const v of vendors) {
  const src = join(root, v.from);
  if (!existsSync(src)) {
    console.warn(`vendor-web: ${v.from} is not installed; the browser voices will be unavailable`);
    continue;
  }
  mkdirSync(join(root, v.to), { recursive: true });
  for (const f of v.files) copyFileSync(join(src, f), join(root, v.to, f));
  console.log(`vendor-web: ${v.from} -> ${v.to}`);
}
