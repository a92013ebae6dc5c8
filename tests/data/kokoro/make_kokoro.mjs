// make_kokoro — writes a tiny, valid ONNX model with Kokoro's interface and a tiny voices
// file, so the real kokoro engine runs end to end without downloading Kokoro (~310 MB).
//
// The interface (thewh1teagle/kokoro-onnx src/kokoro_onnx/__init__.py, _create_audio):
// `tokens` int64 [1,N] — newer exports name it `input_ids` — the token ids with a 0 pad at
// both ends; `style` float [1,256], row len(tokens) of the voice's table; `speed` float [1]
// (int32 in some input_ids exports). Output `audio` float [samples]. Here every token
// (pads included) becomes 256 samples: the style vector itself, times speed. So the audio's
// length follows the token count exactly and each voice sounds as its table says (the tiny
// voices are tones of different pitch).
//
// The voices file is a NumPy .npz as np.savez writes it: a zip (stored, or deflated as
// np.savez_compressed does) of NAME.npy members, each float32 '<f4' [rows, 1, dim] with the
// NumPy format's header (version 1.0, dict padded with spaces to a 64-byte boundary, '\n').
//
// With durations: 'float' or 'int64' it also exports `durations` [1,N], one per id (as the
// timestamped exports do): the id's own value, so word timings weighted by it can be checked.
// With noise: true the model adds RandomUniformLike + RandomNormalLike noise (5%), as
// Kokoro's iSTFTNet source draws both: renders must still repeat (piper_noise.c).
//
// CLI: node tests/data/kokoro/make_kokoro.mjs DIR [--input-ids] [--speed-int] [--deflate] [--noise]
//   writes DIR/kokoro-v1.0.onnx and DIR/voices-v1.0.bin (voices af_test, bm_test, ff_test).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { FLOAT, INT64, bytes, floats, int64s, msg, node, intAttr, tensor, valueInfo, vint } from '../piper/make_model.mjs';

export const STYLE_DIM = 256;
export const SAMPLES_PER_TOKEN = 256;   // = STYLE_DIM: a token's frame is the style vector
export const STYLE_ROWS = 510;
const INT32 = 6;

export function tinyKokoroModel({ inputIds = false, speedInt = false, badInputs = false, work = 0, noise = false, durations = null } = {}) {
  const tok = inputIds ? 'input_ids' : 'tokens';
  const nodes = [
    node('cast', 'Cast', [tok], ['x'], [intAttr('to', FLOAT)]),
    node('zero', 'Mul', ['x', 'zero'], ['z']),
    node('one', 'Add', ['z', 'one'], ['ones']),
    node('sp', 'Cast', ['speed'], ['speed_f'], [intAttr('to', FLOAT)]),
    node('ones_s', 'Mul', ['ones', 'speed_f'], ['ones_sp']),
    node('unsq', 'Unsqueeze', ['ones_sp', 'axes'], ['ones3']),
    node('style3', 'Reshape', ['style', 'shape3'], ['frame']),
    node('frames', 'Mul', ['ones3', 'frame'], ['frames']),
  ];
  const heavy = [];
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.2165;
  for (let k = 0; k < work; k++) {   // benchmarks: compute and weights like a bigger model's
    nodes.push(node(`mm${k}`, 'MatMul', [k ? `h${k - 1}` : 'frames', `w${k}`], [`m${k}`]));
    nodes.push(node(`th${k}`, 'Tanh', [`m${k}`], [`h${k}`]));
    heavy.push(tensor(5, `w${k}`, FLOAT, [STYLE_DIM, STYLE_DIM],
      floats(Array.from({ length: STYLE_DIM * STYLE_DIM }, rnd))));
  }
  if (work) {
    nodes.push(node('eps', 'Mul', [`h${work - 1}`, 'eps'], ['small']));
    nodes.push(node('mix', 'Add', ['frames', 'small'], ['mixed']));
    heavy.push(tensor(5, 'eps', FLOAT, [], floats([1e-6])));
  }
  let last = work ? 'mixed' : 'frames';
  if (noise) {   // as Kokoro's iSTFTNet source: uniform phases and Gaussian noise, here 5% each
    nodes.push(node('uni', 'RandomUniformLike', [last], ['uni']));
    nodes.push(node('gau', 'RandomNormalLike', [last], ['gau']));
    nodes.push(node('both', 'Add', ['uni', 'gau'], ['both']));
    nodes.push(node('quiet', 'Mul', ['both', 'quiet'], ['soft']));
    nodes.push(node('noisy', 'Add', [last, 'soft'], ['noisy']));
    heavy.push(tensor(5, 'quiet', FLOAT, [], floats([0.05])));
    last = 'noisy';
  }
  nodes.push(node('flat', 'Reshape', [last, 'shape1'], ['audio']));
  const inits = [
    tensor(5, 'zero', FLOAT, [], floats([0])),
    tensor(5, 'one', FLOAT, [], floats([1])),
    tensor(5, 'axes', INT64, [1], int64s([2])),
    tensor(5, 'shape3', INT64, [3], int64s([1, 1, STYLE_DIM])),
    tensor(5, 'shape1', INT64, [1], int64s([-1])),
    ...heavy,
  ];
  const inputs = [
    valueInfo(11, tok, badInputs ? FLOAT : INT64, [1, 'tokens']),
    valueInfo(11, 'style', FLOAT, [1, STYLE_DIM]),
    valueInfo(11, 'speed', speedInt ? INT32 : FLOAT, [1]),
  ];
  const outputs = [valueInfo(12, 'audio', FLOAT, ['samples'])];
  if (durations) {   // as timestamped exports: one duration per id — here the id itself
    nodes.push(node('dur', 'Identity', [durations === 'int64' ? tok : 'x'], ['durations']));
    outputs.push(valueInfo(12, 'durations', durations === 'int64' ? INT64 : FLOAT, [1, 'tokens']));
  }
  const graph = msg(7, ...nodes, bytes(2, 'tiny_kokoro'), ...inits, ...inputs, ...outputs);
  return Buffer.concat([vint(1, 7), bytes(2, 'recite-test'), graph, msg(8, bytes(1, ''), vint(2, 13))]);
}

// A .npy (format 1.0) of float32 data with this shape, as numpy.lib.format writes it.
export function npy(shape, data, { descr = '<f4', fortran = false } = {}) {
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${tuple}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre);
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(new Float32Array(data).buffer)]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// A zip of {name: Buffer} (stored, or deflated), as Python's zipfile writes one.
export function zip(members, { deflate = false } = {}) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const [name, data] of Object.entries(members)) {
    const nm = Buffer.from(name, 'utf8');
    const body = deflate ? deflateRawSync(data) : data;
    const crc = crc32(data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(0, 6);
    lh.writeUInt16LE(deflate ? 8 : 0, 8); lh.writeUInt16LE(0, 10); lh.writeUInt16LE(0x21, 12);
    lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(body.length, 18); lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(nm.length, 26); lh.writeUInt16LE(0, 28);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(0, 8); ch.writeUInt16LE(deflate ? 8 : 0, 10); ch.writeUInt16LE(0, 12);
    ch.writeUInt16LE(0x21, 14); ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(data.length, 24); ch.writeUInt16LE(nm.length, 28); ch.writeUInt32LE(offset, 42);
    locals.push(lh, nm, body);
    centrals.push(ch, nm);
    offset += 30 + nm.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  const n = Object.keys(members).length;
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(n, 8); end.writeUInt16LE(n, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

// A voice's style table: row r is a tone of `periods` periods per 256 samples whose
// amplitude grows a little with r (so the row Kokoro picks shows in the audio).
export function toneVoice(periods, rows = STYLE_ROWS, dim = STYLE_DIM) {
  const a = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < dim; i++)
      a[r * dim + i] = (0.3 + 0.2 * r / rows) * Math.sin((2 * Math.PI * periods * i) / dim);
  return a;
}

export const TINY_VOICES = { af_test: 3, bm_test: 5, ff_test: 7 };

export function tinyVoicesFile({ voices = TINY_VOICES, rows = STYLE_ROWS, dim = STYLE_DIM, deflate = false } = {}) {
  const members = {};
  for (const [name, periods] of Object.entries(voices))
    members[`${name}.npy`] = npy([rows, 1, dim], toneVoice(periods, rows, dim));
  return zip(members, { deflate });
}

export function writeKokoro(dir, opts = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kokoro-v1.0.onnx'), tinyKokoroModel(opts));
  writeFileSync(join(dir, 'voices-v1.0.bin'), tinyVoicesFile(opts));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node make_kokoro.mjs DIR [--input-ids] [--speed-int] [--deflate] [--noise] [--work K]');
    process.exit(2);
  }
  const a = process.argv.slice(3);
  writeKokoro(dir, { inputIds: a.includes('--input-ids'), speedInt: a.includes('--speed-int'),
    deflate: a.includes('--deflate'), noise: a.includes('--noise'),
    durations: a.includes('--durations') ? 'float' : a.includes('--durations-int') ? 'int64' : null, work: a.includes('--work') ? Number(a[a.indexOf('--work') + 1]) : 0 });
}
