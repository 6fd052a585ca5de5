// Runs an ONNX model in ONNX Runtime (onnxruntime-node) for Keen's interop
// tests. Usage: node ort_run.js MODEL IN.json OUT.json
// IN.json: {"name": {"type": "float32", "dims": [..], "data": "<base64 little-endian>"}}
// OUT.json: the outputs in the same form.
const fs = require('fs');
const ort = require('onnxruntime-node');

const arrays = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array,
  int8: Int8Array, uint8: Uint8Array, bool: Uint8Array,
};

function decode(v) {
  const buf = Buffer.from(v.data, 'base64');
  const A = arrays[v.type];
  const copy = new Uint8Array(buf.length);
  copy.set(buf);
  return new ort.Tensor(v.type, new A(copy.buffer, 0, buf.length / A.BYTES_PER_ELEMENT), v.dims);
}

function encode(t) {
  const d = t.data;
  return { type: t.type, dims: t.dims, data: Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64') };
}

async function main() {
  const [model, inPath, outPath] = process.argv.slice(2);
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const session = await ort.InferenceSession.create(model, opts);
  const feeds = {};
  for (const [name, v] of Object.entries(JSON.parse(fs.readFileSync(inPath, 'utf8')))) feeds[name] = decode(v);
  const results = await session.run(feeds);
  const out = {};
  for (const [name, t] of Object.entries(results)) out[name] = encode(t);
  fs.writeFileSync(outPath, JSON.stringify(out));
}

main().catch((e) => { console.error(String(e && e.message || e)); process.exit(1); });
