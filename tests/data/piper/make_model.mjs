// make_model — writes a tiny, valid ONNX model with a Piper voice's exact interface, so the
// real piper engine can be run end to end without downloading a voice.
//
// Inputs, as Piper's VITS exports: `input` int64 [1,N] (phoneme ids), `input_lengths` int64
// [1], `scales` float [3] (noise, length, noise_w), and `sid` int64 [1] for a multi-speaker
// voice. Output `output` float [1,1,1,N*256]: for every phoneme id, 256 samples of a tone
// (three periods of ~258 Hz at 22,050 Hz), so the audio's length follows the phoneme count
// exactly. With durations: true it also exports `durations` float [1,N] (one per id).
// With work: K (benchmarks), K chained 256x256 MatMul+Tanh layers run over every id's frame
// and add a negligible 1e-6 of their result, so compute and weights (K x 256 KiB) grow like
// a real voice's while the audio stays the tone. With noise: true, Gaussian noise from a
// RandomNormalLike node (as in VITS) times scales[0] is added, at 5% of the tone.
// The graph: Cast(input) -> *0 +1 -> Unsqueeze -> x tone [1,1,256] -> Reshape [1,1,1,-1].
//
// The protobuf is written by hand (field numbers from onnx.proto: ModelProto ir_version 1,
// graph 7, opset_import 8; GraphProto node 1, name 2, initializer 5, input 11, output 12;
// NodeProto input 1, output 2, name 3, op_type 4, attribute 5; TensorProto dims 1,
// data_type 2, name 8, raw_data 9; ValueInfoProto name 1, type 2).
//
// CLI: node tests/data/piper/make_model.mjs OUT.onnx [--sid] [--durations] [--bad-inputs] [--noise] [--work K]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FLOAT = 1, INT64 = 7;
export const SAMPLES_PER_ID = 256;

export function varint(n) {
  let v = BigInt.asUintN(64, BigInt(n));
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
export const key = (field, wire) => varint((field << 3) | wire);
export const vint = (field, n) => Buffer.concat([key(field, 0), varint(n)]);
export const bytes = (field, buf) => {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf, 'utf8');
  return Buffer.concat([key(field, 2), varint(b.length), b]);
};
export const msg = (field, ...parts) => bytes(field, Buffer.concat(parts));

export function tensor(field, name, type, dims, raw) {
  return msg(field, ...dims.map((d) => vint(1, d)), vint(2, type), bytes(8, name), bytes(9, raw));
}
export function floats(a) {
  return Buffer.from(new Float32Array(a).buffer);
}
export function int64s(a) {
  return Buffer.from(new BigInt64Array(a.map(BigInt)).buffer);
}
export function valueInfo(field, name, type, dims) {
  const shape = dims.map((d) => msg(1, typeof d === 'string' ? bytes(2, d) : vint(1, d)));
  return msg(field, bytes(1, name), msg(2, msg(1, vint(1, type), msg(2, ...shape))));
}
export function node(name, op, inputs, outputs, attrs = []) {
  return msg(1, ...inputs.map((i) => bytes(1, i)), ...outputs.map((o) => bytes(2, o)),
    bytes(3, name), bytes(4, op), ...attrs);
}
export const intAttr = (name, v) => msg(5, bytes(1, name), vint(3, v), vint(20, 2));

export function tinyPiperModel({ sid = false, durations = false, badInputs = false, work = 0, noise = false } = {}) {
  const tone = [];
  for (let i = 0; i < SAMPLES_PER_ID; i++) tone.push(0.5 * Math.sin((2 * Math.PI * 3 * i) / SAMPLES_PER_ID));
  const inName = badInputs ? 'text' : 'input';
  const nodes = [
    node('cast', 'Cast', [inName], ['x'], [intAttr('to', FLOAT)]),
    node('zero', 'Mul', ['x', 'zero'], ['z']),
    node('one', 'Add', ['z', 'one'], ['ones']),
    node('unsq', 'Unsqueeze', ['ones', 'axes'], ['ones3']),
    node('tone', 'Mul', ['ones3', 'tone'], ['frames']),
  ];
  const heavy = [];
  let seed = 12345;
  // uniform weights with std 1/16 = 1/sqrt(256): activations keep their size through the
  // chain (smaller ones decay into denormal floats, which made every layer ~100x slower)
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.2165;
  for (let k = 0; k < work; k++) {
    nodes.push(node(`mm${k}`, 'MatMul', [k ? `h${k - 1}` : 'frames', `w${k}`], [`m${k}`]));
    nodes.push(node(`th${k}`, 'Tanh', [`m${k}`], [`h${k}`]));
    heavy.push(tensor(5, `w${k}`, FLOAT, [SAMPLES_PER_ID, SAMPLES_PER_ID],
      floats(Array.from({ length: SAMPLES_PER_ID * SAMPLES_PER_ID }, rnd))));
  }
  if (work) {
    nodes.push(node('eps', 'Mul', [`h${work - 1}`, 'eps'], ['small']));
    nodes.push(node('mix', 'Add', ['frames', 'small'], ['mixed']));
    heavy.push(tensor(5, 'eps', FLOAT, [], floats([1e-6])));
  }
  let last = work ? 'mixed' : 'frames';
  if (noise) {   // as VITS: Gaussian noise (RandomNormalLike) scaled by scales[0], noise_scale
    nodes.push(node('rnd', 'RandomNormalLike', [last], ['rnd']));
    nodes.push(node('ns', 'Gather', ['scales', 'zero_i'], ['ns']));
    nodes.push(node('rnd_s', 'Mul', ['rnd', 'ns'], ['rnd_s']));
    nodes.push(node('rnd_q', 'Mul', ['rnd_s', 'quiet'], ['rnd_q']));
    nodes.push(node('noisy', 'Add', [last, 'rnd_q'], ['noisy']));
    heavy.push(tensor(5, 'zero_i', INT64, [], int64s([0])), tensor(5, 'quiet', FLOAT, [], floats([0.05])));
    last = 'noisy';
  }
  nodes.push(node('flat', 'Reshape', [last, 'shape'], ['output']));
  if (durations) nodes.push(node('dur', 'Identity', ['ones'], ['durations']));
  const inits = [
    tensor(5, 'zero', FLOAT, [], floats([0])),
    tensor(5, 'one', FLOAT, [], floats([1])),
    tensor(5, 'axes', INT64, [1], int64s([2])),
    tensor(5, 'tone', FLOAT, [1, 1, SAMPLES_PER_ID], floats(tone)),
    tensor(5, 'shape', INT64, [4], int64s([1, 1, 1, -1])),
    ...heavy,
  ];
  const inputs = [
    valueInfo(11, inName, badInputs ? FLOAT : INT64, [1, 'phonemes']),
    valueInfo(11, 'input_lengths', INT64, [1]),
    valueInfo(11, 'scales', FLOAT, [3]),
  ];
  if (sid) inputs.push(valueInfo(11, 'sid', INT64, [1]));
  const outputs = [valueInfo(12, 'output', FLOAT, [1, 1, 1, 'samples'])];
  if (durations) outputs.push(valueInfo(12, 'durations', FLOAT, [1, 'phonemes']));
  const graph = msg(7, ...nodes, bytes(2, 'tiny_piper'), ...inits, ...inputs, ...outputs);
  return Buffer.concat([vint(1, 7), bytes(2, 'recite-test'), graph, msg(8, bytes(1, ''), vint(2, 13))]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node make_model.mjs OUT.onnx [--sid] [--durations] [--bad-inputs]');
    process.exit(2);
  }
  const a = process.argv.slice(3);
  writeFileSync(out, tinyPiperModel({ sid: a.includes('--sid'), durations: a.includes('--durations'),
    badInputs: a.includes('--bad-inputs'), noise: a.includes('--noise'), work: a.includes('--work') ? Number(a[a.indexOf('--work') + 1]) : 0 }));
}
