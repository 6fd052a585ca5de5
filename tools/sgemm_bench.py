#!/usr/bin/python3
"""SGEMM reference for `make bench-sgemm`: numpy's float32 matmul, which
Debian links to OpenBLAS (install libopenblas0-openmp or -pthread first;
the reference BLAS is far slower), and the ONNX model Keen runs for the
same product.

    /usr/bin/python3 tools/sgemm_bench.py model DIR [--n 1024]
        writes DIR/sgemm<n>/model.onnx: Y = MatMul(A, B), A and B n×n float32 inputs
    /usr/bin/python3 tools/sgemm_bench.py time [--n 1024] [--threads T] [--iters N] [--warmup N] [--json]
        times numpy.matmul on n×n float32 matrices with T BLAS threads

With --json the last line is {"backend": "openblas", "threads": T, "iters": N,
"median_ms": .., "min_ms": .., "gflops": ..}, as `onnxrun bench --json`
prints, so tools/bench_compare.py can interleave the two.
"""
import json
import os
import statistics
import sys
import time


def flag(args, name, default):
    if name in args:
        i = args.index(name)
        return type(default)(args[i + 1])
    return default


def write_model(out, n):
    import onnx
    from onnx import TensorProto, helper
    a = helper.make_tensor_value_info("A", TensorProto.FLOAT, [n, n])
    b = helper.make_tensor_value_info("B", TensorProto.FLOAT, [n, n])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [n, n])
    g = helper.make_graph([helper.make_node("MatMul", ["A", "B"], ["Y"])], "sgemm%d" % n, [a, b], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    d = os.path.join(out, "sgemm%d" % n)
    os.makedirs(d, exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    print(os.path.join(d, "model.onnx"))


def time_matmul(args):
    n, threads = flag(args, "--n", 1024), flag(args, "--threads", 1)
    iters, warmup = flag(args, "--iters", 20), flag(args, "--warmup", 3)
    # The BLAS reads its thread count when it loads: set it before numpy.
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[v] = str(threads)
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    for _ in range(warmup):
        np.matmul(a, b, out=c)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append((time.perf_counter() - t) * 1e3)
    med = statistics.median(times)
    res = {"backend": "openblas", "threads": threads, "iters": iters, "median_ms": med,
           "min_ms": min(times), "gflops": 2 * n ** 3 / med / 1e6}
    print("numpy matmul %d³ float32, %d threads: median %.3f ms (%.1f GFLOP/s)" % (n, threads, med, res["gflops"]))
    if "--json" in args:
        print(json.dumps(res))


def main():
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "model":
        write_model(args[1], flag(args, "--n", 1024))
    elif args and args[0] == "time":
        time_matmul(args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
