#!/usr/bin/python3
"""Exports three small PyTorch models to ONNX, each in onnxruntime's
onnx_test_runner layout (model.onnx, test_data_set_0/input_0.pb and
output_0.pb holding PyTorch's own output), into torch/ beside this script:

  mlp          Linear-ReLU-Linear-Softmax
  cnn          Conv-BatchNorm-ReLU-MaxPool-Conv-ReLU-GlobalAvgPool-Linear
  transformer  a transformer encoder block: multi-head self-attention,
               residuals, LayerNorm, a ReLU feed-forward
  shapes       attention heads split and merged by reshapes whose dims come
               from x.shape (x.size(0) for the batch, no -1 trick)
  upsample     a convolution, then interpolate to a size (Resize whose sizes
               are Concat(Shape(x)[:2], [8, 8])) and by a scale factor

The batch dim is dynamic ("N") so that `dlc compile` can take the models;
the first three reshape with -1 for it, so no shape arithmetic on the batch
is traced; "shapes" traces Shape -> Gather -> Unsqueeze -> Concat ->
Reshape on N, which the importer evaluates symbolically.
Run with Debian's python3-torch and python3-onnx (names select models,
all by default):
    /usr/bin/python3 frontend/onnx/testdata/export_torch.py [NAME...]
"""
import math
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

torch.manual_seed(0)
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch")


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = torch.nn.Linear(20, 32)
        self.l2 = torch.nn.Linear(32, 10)

    def forward(self, x):
        return torch.softmax(self.l2(torch.relu(self.l1(x))), dim=-1)


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.c2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2)
        self.fc = torch.nn.Linear(16, 5)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn(self.c1(x))), 2)
        x = torch.relu(self.c2(x))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


class Encoder(torch.nn.Module):
    def __init__(self, d=16, heads=4, ff=32, t=6):
        super().__init__()
        self.d, self.h, self.t = d, heads, t
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.ln1 = torch.nn.LayerNorm(d)
        self.ff1 = torch.nn.Linear(d, ff)
        self.ff2 = torch.nn.Linear(ff, d)
        self.ln2 = torch.nn.LayerNorm(d)

    def forward(self, x):
        d, h, t = self.d, self.h, self.t
        dh = d // h
        q, k, v = self.qkv(x).split(d, dim=-1)
        q = q.reshape(-1, t, h, dh).transpose(1, 2)
        k = k.reshape(-1, t, h, dh).transpose(1, 2)
        v = v.reshape(-1, t, h, dh).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1) @ v
        a = a.transpose(1, 2).reshape(-1, t, d)
        x = self.ln1(x + self.proj(a))
        return self.ln2(x + self.ff2(torch.relu(self.ff1(x))))


class Shapes(torch.nn.Module):
    def __init__(self, d=16, heads=4):
        super().__init__()
        self.h = heads
        self.cls = torch.nn.Parameter(torch.randn(1, 1, d))
        self.qkv = torch.nn.Linear(d, d)
        self.out = torch.nn.Linear(d, 8)

    def forward(self, x):
        b = x.size(0)
        # A class token per sample, as ViT prepends it: expand(b, -1, -1)
        # exports as Equal/Where on the shape.
        x = torch.cat([self.cls.expand(b, -1, -1), x], dim=1)
        _, t, d = x.shape
        h = self.qkv(x).reshape(b, t, self.h, d // self.h).transpose(1, 2)
        a = torch.softmax(h @ h.transpose(-1, -2) / 2.0, dim=-1) @ h
        y = a.transpose(1, 2).reshape(b, t * d)
        return self.out(torch.relu(y).view(x.size(0), t, d)) + torch.ones(b, 1, 8)


class Upsample(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c = torch.nn.Conv2d(2, 3, 3, padding=1)

    def forward(self, x):
        x = torch.nn.functional.interpolate(self.c(x), size=(8, 8), mode="bilinear", align_corners=False)
        return torch.nn.functional.interpolate(x, scale_factor=0.5, mode="nearest")


def export(name, model, x):
    if len(sys.argv) > 1 and name not in sys.argv[1:]:
        return
    model.eval()
    if name == "cnn":
        # Non-trivial running statistics, as a trained model has.
        with torch.no_grad():
            model.bn.running_mean.uniform_(-0.5, 0.5)
            model.bn.running_var.uniform_(0.5, 2.0)
    d = os.path.join(HERE, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=13)
    onnx.checker.check_model(onnx.load(path))
    with torch.no_grad():
        y = model(x)
    for kind, t in (("input", x), ("output", y)):
        tp = numpy_helper.from_array(t.numpy().astype(np.float32), kind)
        with open(os.path.join(d, "test_data_set_0", kind + "_0.pb"), "wb") as f:
            f.write(tp.SerializeToString())


export("mlp", MLP(), torch.randn(3, 20))
export("cnn", CNN(), torch.randn(2, 3, 8, 8))
export("transformer", Encoder(), torch.randn(2, 6, 16))
export("shapes", Shapes(), torch.randn(3, 6, 16))
export("upsample", Upsample(), torch.randn(2, 2, 4, 4))
