#!/usr/bin/python3
"""Interleaved A/B timing: runs command A, then B, then A, ... (--pairs
pairs), each a process that prints a JSON object with "median_ms" on its
last line (`onnxrun bench --json`, interop/ort_bench.js --json,
tools/torch_train_bench.py --json). Prints each pair, then the median over
the pairs of each side's medians and their ratio A/B (below 1: A faster).

    /usr/bin/python3 tools/bench_compare.py --label NAME --pairs 5 \\
        --a 'bin/onnxrun bench M --json' --b 'node interop/ort_bench.js M --json' \\
        [--out results.jsonl]

--out appends one JSON line per comparison (label, pairs, medians, ratio).
Standard library only.
"""
import argparse
import json
import shlex
import statistics
import subprocess
import sys


def run(cmd):
    p = subprocess.run(shlex.split(cmd), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("bench_compare: %s failed (%d):\n%s%s" % (cmd, p.returncode, p.stdout, p.stderr))
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if not lines:
        sys.exit("bench_compare: %s printed nothing" % cmd)
    return json.loads(lines[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--label", required=True)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--a", required=True, help="command A (Keen)")
    ap.add_argument("--b", required=True, help="command B (the reference)")
    ap.add_argument("--out", help="append the result as a JSON line to this file")
    args = ap.parse_args()
    if args.pairs < 1:
        sys.exit("bench_compare: --pairs must be at least 1")
    ta, tb = [], []
    for i in range(args.pairs):
        ra, rb = run(args.a), run(args.b)
        ta.append(ra["median_ms"])
        tb.append(rb["median_ms"])
        print("  %s pair %d: A %.3f ms (%s), B %.3f ms (%s)" % (
            args.label, i + 1, ta[-1], ra.get("backend", "?"), tb[-1], rb.get("backend", "?")), flush=True)
    ma, mb = statistics.median(ta), statistics.median(tb)
    res = {"label": args.label, "pairs": args.pairs, "a_median_ms": ma, "b_median_ms": mb, "ratio": ma / mb,
           "a_runs": ta, "b_runs": tb, "a": args.a, "b": args.b}
    print("%s: A %.3f ms, B %.3f ms, A/B %.2f (medians of %d interleaved pairs)" % (
        args.label, ma, mb, ma / mb, args.pairs), flush=True)
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
