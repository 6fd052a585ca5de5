#!/usr/bin/python3
"""Export reference models from PyTorch (random weights) as ONNX test cases.

Each model becomes OUT/<name>/model.onnx plus test_data_set_0/input_0.pb and
output_0.pb holding PyTorch's outputs, the layout `onnxrun conformance` reads.
With --grad, it also writes grad/<initializer>.pb and grad/input_0.pb: PyTorch
autograd's gradients of sum(output 0), the files `onnxrun grad` writes.

Needs Debian's python3-torch, python3-torchvision and python3-onnx
(run with /usr/bin/python3). Tests never need it.

    /usr/bin/python3 tools/export_models.py OUT [NAME ...] [--grad]
"""
import os
import sys

import onnx
import torch
import torchvision.models as tvm
from onnx import numpy_helper

torch.manual_seed(0)


class LSTMModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(16, 32, num_layers=2, batch_first=True)
        self.fc = torch.nn.Linear(32, 5)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[:, -1])


class BiGRU(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(8, 12, bidirectional=True, batch_first=True)

    def forward(self, x):
        return self.gru(x)[0]


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                       torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)


class BNCNN(torch.nn.Module):
    """CNN with BatchNorm (exported in training mode for gradients) and a depthwise conv."""
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)  # a bias before BatchNorm has a gradient of exactly 0: float32 noise
        self.bn1 = torch.nn.BatchNorm2d(8)
        self.dw = torch.nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8 * 4 * 4, 6)

    def forward(self, x):
        x = torch.relu(self.bn1(self.c1(x)))
        x = torch.nn.functional.max_pool2d(torch.relu(self.bn2(self.dw(x))), 2)
        return self.fc(torch.flatten(x, 1))


def encoder():
    return torch.nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128, dropout=0.0, batch_first=True)


# name: (constructor, input shape, train-mode export, dynamic batch)
MODELS = {
    "resnet18": (lambda: tvm.resnet18(), (1, 3, 224, 224)),
    "resnet50": (lambda: tvm.resnet50(), (1, 3, 224, 224)),
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(), (1, 3, 224, 224)),
    "squeezenet1_1": (lambda: tvm.squeezenet1_1(), (1, 3, 224, 224)),
    "alexnet": (lambda: tvm.alexnet(), (1, 3, 224, 224)),
    "vgg19": (lambda: tvm.vgg19(), (1, 3, 224, 224)),
    "googlenet": (lambda: tvm.googlenet(aux_logits=False, init_weights=True), (1, 3, 224, 224)),
    "inception_v3": (lambda: tvm.inception_v3(aux_logits=False, init_weights=True), (1, 3, 299, 299)),
    "densenet121": (lambda: tvm.densenet121(), (1, 3, 224, 224)),
    "shufflenet_v2": (lambda: tvm.shufflenet_v2_x1_0(), (1, 3, 224, 224)),
    "lstm": (LSTMModel, (2, 7, 16)),
    "bigru": (BiGRU, (2, 5, 8)),
    "transformer_encoder": (encoder, (2, 10, 64)),
    "mlp": (MLP, (4, 784)),
    "bn_cnn": (BNCNN, (2, 3, 8, 8)),
}

GRAD_TRAIN = {"bn_cnn"}  # exported in training mode: BatchNorm uses batch statistics


def save(t, path, name):
    p = numpy_helper.from_array(t.detach().cpu().numpy(), name)
    with open(path, "wb") as f:
        f.write(p.SerializeToString())


def export(name, out, grad):
    ctor, shape = MODELS[name]
    model = ctor()
    if grad:
        # Perturb every parameter: default inits (LayerNorm weights of ones,
        # zero biases) make gradients degenerate, and the exporter merges
        # initializers with equal values, which would mix their gradients.
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.1 * torch.randn_like(p))
    train = grad and name in GRAD_TRAIN
    model.train(train)
    x = torch.randn(*shape)
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    path = os.path.join(d, "model.onnx")
    mode = torch.onnx.TrainingMode.TRAINING if train else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"], opset_version=17,
                      do_constant_folding=not grad, training=mode,
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    onnx.checker.check_model(onnx.load(path))
    xr = x.clone().requires_grad_(grad)
    y = model(xr)
    save(x, os.path.join(d, "test_data_set_0", "input_0.pb"), "input")
    save(y, os.path.join(d, "test_data_set_0", "output_0.pb"), "output")
    if grad:
        gd = os.path.join(d, "grad")
        os.makedirs(gd, exist_ok=True)
        y.sum().backward()
        names = {i.name for i in onnx.load(path).graph.initializer}
        for pname, p in model.named_parameters():
            if pname in names and p.grad is not None:
                save(p.grad, os.path.join(gd, pname.replace("/", "_") + ".pb"), pname)
        save(xr.grad, os.path.join(gd, "input_0.pb"), "input")
    print(name, "->", d)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    grad = "--grad" in sys.argv
    if not args:
        sys.exit(__doc__)
    out, names = args[0], args[1:] or list(MODELS)
    for n in names:
        export(n, out, grad)


if __name__ == "__main__":
    main()
