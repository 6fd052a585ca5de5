// Times ONNX Runtime (onnxruntime-node) inference on a model, the reference
// side of `make bench`. Usage:
//   node ort_bench.js MODEL [--threads T] [--iters N] [--warmup N] [--dim NAME=V ...] [--json]
// Inputs are made as `onnxrun bench` makes them: the declared shapes with
// symbolic dimensions from --dim (default 1), floats uniform in [0,1),
// integers 0. --threads sets intraOpNumThreads (interOpNumThreads is 1, the
// graph runs sequentially). Prints one line, and with --json a JSON object
// with the same fields as `onnxrun bench --json` on the last line.
const ort = require('onnxruntime-node');

const arrays = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array,
  int8: Int8Array, uint8: Uint8Array, bool: Uint8Array,
};

function parse(argv) {
  const o = { threads: 1, iters: 20, warmup: 3, dims: {}, json: false, model: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--threads') o.threads = parseInt(argv[++i], 10);
    else if (a === '--iters') o.iters = parseInt(argv[++i], 10);
    else if (a === '--warmup') o.warmup = parseInt(argv[++i], 10);
    else if (a === '--dim') { const [k, v] = argv[++i].split('='); o.dims[k] = parseInt(v, 10); }
    else if (a === '--json') o.json = true;
    else if (o.model === null) o.model = a;
    else throw new Error(`ort_bench: unexpected argument ${a}`);
  }
  if (!o.model || !(o.iters >= 1) || !(o.threads >= 1)) {
    throw new Error('usage: node ort_bench.js MODEL [--threads T] [--iters N] [--warmup N] [--dim NAME=V] [--json]');
  }
  return o;
}

// input makes one feed of the declared shape; x is a small LCG so runs repeat.
function input(meta, dims, rng) {
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : (dims[d] || 1)));
  const n = shape.reduce((a, b) => a * b, 1);
  const A = arrays[meta.type];
  if (!A) throw new Error(`ort_bench: input ${meta.name}: type ${meta.type} not supported`);
  const data = new A(n);
  if (meta.type === 'float32' || meta.type === 'float64') {
    for (let i = 0; i < n; i++) data[i] = rng();
  }
  return new ort.Tensor(meta.type, data, shape);
}

function lcg(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}

function median(s) {
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const o = parse(process.argv.slice(2));
  const session = await ort.InferenceSession.create(o.model, {
    intraOpNumThreads: o.threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const rng = lcg(1);
  const feeds = {};
  for (const meta of session.inputMetadata) feeds[meta.name] = input(meta, o.dims, rng);
  for (let i = 0; i < o.warmup; i++) await session.run(feeds);
  const times = [];
  for (let i = 0; i < o.iters; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const s = [...times].sort((a, b) => a - b);
  const res = {
    model: o.model, backend: `onnxruntime-node ${require('onnxruntime-node/package.json').version}`,
    threads: o.threads, iters: o.iters, median_ms: median(s), min_ms: s[0],
    mean_ms: times.reduce((a, b) => a + b, 0) / times.length, train: false,
  };
  console.log(`${o.model}: inference on ${res.backend}, ${o.threads} threads: median ${res.median_ms.toFixed(3)} ms, ` +
    `min ${res.min_ms.toFixed(3)} ms, mean ${res.mean_ms.toFixed(3)} ms over ${o.iters} runs`);
  if (o.json) console.log(JSON.stringify(res));
  await session.release();
}

main().catch((e) => { console.error(String(e && e.message || e)); process.exit(1); });
