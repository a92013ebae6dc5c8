// Benchmark 12 — export memory (docs/BENCHMARKS.md).
//
//   node bench/export_memory.mjs [FILE=`man bash` as text] [workers=2]
//
// `recite export FILE -o out.ogg` streams block by block (src/export.c), so its peak memory
// must not grow with the document. Runs the export of the whole text and of its first
// tenth under `/usr/bin/time -v` and reports peak RSS, wall and CPU time and the audio
// length. Reference in the same run: the tenth. Goal: the whole document's peak RSS is
// below 100 MB and about the tenth's (ratio ~1.0), whatever its length.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, tempDir, BIN, table, machine } from './lib.mjs';

const workers = String(process.argv[3] || 2);
build();
const dir = tempDir('recite-export-bench-');
let text;
if (process.argv[2]) {
  text = readFileSync(process.argv[2], 'utf8');
} else {
  text = execFileSync('sh', ['-c', 'MANWIDTH=80 man bash 2>/dev/null | col -b'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (text.length < 1000) text = readFileSync('/usr/share/common-licenses/GPL-3', 'utf8').repeat(10);
}
const paras = text.split(/\n\s*\n/);
const whole = join(dir, 'whole.txt');
const tenth = join(dir, 'tenth.txt');
writeFileSync(whole, text);
writeFileSync(tenth, paras.slice(0, Math.ceil(paras.length / 10)).join('\n\n'));

function measure(file) {
  const out = join(dir, 'out.ogg');
  const r = spawnSync('/usr/bin/time', ['-v', BIN, 'export', '--workers', workers, '--data', join(dir, 'nodata'), file, '-o', out],
    { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`export failed: ${r.stderr}`);
  const get = (re) => (r.stderr.match(re) || [])[1];
  const [, blocks, audio] = r.stderr.match(/: (\d+) blocks .*?, ([\d.]+) s of audio/) || [];
  const wall = get(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)/);
  const user = Number(get(/User time \(seconds\): (\S+)/)), sys = Number(get(/System time \(seconds\): (\S+)/));
  return { blocks: Number(blocks), audio: Number(audio), rss: Number(get(/Maximum resident set size \(kbytes\): (\d+)/)) / 1024, wall, cpu: user + sys };
}

const ref = measure(tenth);
const big = measure(whole);
rmSync(dir, { recursive: true, force: true });
const row = (name, m) => [name, m.blocks, (m.audio / 3600).toFixed(2), m.wall, m.cpu.toFixed(1), m.rss.toFixed(1)];
console.log(`\n${machine()}, --workers ${workers}\n`);
table('export to Ogg Opus under /usr/bin/time -v', ['document', 'blocks', 'audio h', 'wall', 'CPU s', 'peak RSS MB'],
  [row('first tenth (reference)', ref), row('whole', big)]);
console.log(`\npeak RSS whole / tenth: ${(big.rss / ref.rss).toFixed(2)}; audio whole / tenth: ${(big.audio / ref.audio).toFixed(1)}`);
