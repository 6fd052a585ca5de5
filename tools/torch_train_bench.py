#!/usr/bin/python3
"""PyTorch reference timings of one training step, and the ONNX exports Keen
times the same step on (`onnxrun bench MODEL --train --dim N=64`).

A step is: forward on a fixed batch, loss = sum of the output, backward,
Adam update (lr 1e-4), the step `onnxrun bench --train --optimizer adam`
runs. Models (input batch N, default 64):

  mlp  784-256-128-10, ReLU between        input (N, 784)
  cnn  conv3x3 16 (pad 1), ReLU, maxpool 2, conv3x3 32 (pad 1), ReLU,
       maxpool 2, fc 1568-128, ReLU, fc 128-10   input (N, 1, 28, 28)

    /usr/bin/python3 tools/torch_train_bench.py export DIR
        writes DIR/mlp/model.onnx and DIR/cnn/model.onnx (batch symbolic N)
    /usr/bin/python3 tools/torch_train_bench.py time MODEL [--threads T]
        [--iters N] [--warmup N] [--batch B] [--json]

Needs Debian's python3-torch and python3-onnx; tests never need it.
"""
import json
import os
import statistics
import sys
import time

import torch


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                       torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.c2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.f1 = torch.nn.Linear(32 * 7 * 7, 128)
        self.f2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.c1(x)), 2)
        x = torch.nn.functional.max_pool2d(torch.relu(self.c2(x)), 2)
        x = torch.relu(self.f1(torch.flatten(x, 1)))
        return self.f2(x)


MODELS = {"mlp": (MLP, (784,)), "cnn": (CNN, (1, 28, 28))}


def export(out):
    import onnx
    torch.manual_seed(0)
    for name, (ctor, shape) in MODELS.items():
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "model.onnx")
        torch.onnx.export(ctor(), (torch.randn(2, *shape),), path, input_names=["input"],
                          output_names=["output"], opset_version=17, do_constant_folding=True,
                          dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
        onnx.checker.check_model(onnx.load(path))
        print(name, "->", path)


def flag(args, name, default):
    if name in args:
        return int(args[args.index(name) + 1])
    return default


def time_step(name, args):
    threads = flag(args, "--threads", 1)
    iters = flag(args, "--iters", 20)
    warmup = flag(args, "--warmup", 3)
    batch = flag(args, "--batch", 64)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    ctor, shape = MODELS[name]
    model = ctor()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.rand(batch, *shape)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    res = {"model": name, "backend": "pytorch " + torch.__version__, "threads": threads, "iters": iters,
           "median_ms": statistics.median(times), "min_ms": min(times), "mean_ms": statistics.fmean(times),
           "train": True}
    print("%s: training step (adam) on %s, %d threads: median %.3f ms, min %.3f ms, mean %.3f ms over %d runs" % (
        name, res["backend"], threads, res["median_ms"], res["min_ms"], res["mean_ms"], iters))
    if "--json" in args:
        print(json.dumps(res))


def main():
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "export":
        export(args[1])
    elif len(args) >= 2 and args[0] == "time" and args[1] in MODELS:
        time_step(args[1], args[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
