#!/usr/bin/python3
"""Writes PyTorch training references for a conv net with batch norm and for
a layer-norm + single-head-attention block (see README.md).

    /usr/bin/python3 make_refs.py [OUTDIR]     # default: the folder of this script

Needs Debian's python3-torch (1.13, CPU) and python3-numpy.  Every tensor
comes out of eager PyTorch in float32 on one thread, all randomness is
seeded, so two runs write byte-identical files.  The format follows
../../../../shared/training-refs (raw little-endian float32, C order, no
header; shapes and hyperparameters in manifest.json).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True
torch.set_num_threads(1)

STEPS = 10
SNAP_STEPS = (1, 10)

# Optimizers, as dlc's passes.Optimizer fields say them (epsilon 1e-7 as
# dlc's defaults; torch gets the same numbers).
OPTIMIZERS = [
    ("sgd", dict(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    ("sgd_momentum", dict(lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("adam", dict(lr=0.001, betas=[0.9, 0.999], eps=1e-7),
     lambda p: torch.optim.Adam(p, lr=0.001, betas=(0.9, 0.999), eps=1e-7)),
    ("adamw", dict(lr=0.001, betas=[0.9, 0.999], eps=1e-7, weight_decay=0.01),
     lambda p: torch.optim.AdamW(p, lr=0.001, betas=(0.9, 0.999), eps=1e-7, weight_decay=0.01)),
    ("rmsprop", dict(lr=0.001, alpha=0.9, eps=1e-7),
     lambda p: torch.optim.RMSprop(p, lr=0.001, alpha=0.9, eps=1e-7)),
    ("sgd_nesterov", dict(lr=0.05, momentum=0.9, nesterov=True),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    ("adagrad", dict(lr=0.01, eps=1e-10), lambda p: torch.optim.Adagrad(p, lr=0.01, eps=1e-10)),
    ("rmsprop_centered_momentum", dict(lr=0.0001, alpha=0.9, eps=1e-7, momentum=0.9, centered=True),
     lambda p: torch.optim.RMSprop(p, lr=0.0001, alpha=0.9, eps=1e-7, momentum=0.9, centered=True)),
]


class ConvBN(nn.Module):
    """x [N,1,8,8]: conv 4@3x3 pad 1 without bias (the batch norm removes any
    bias, whose gradient is then float32 noise that Adam would amplify), BatchNorm2d (eps 1e-3, momentum 0.01),
    ReLU, MaxPool 2, flatten in channels-last order (dlc's and Keras's),
    Linear 64->5; the loss is softmax cross-entropy."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4, eps=1e-3, momentum=0.01)
        self.fc = nn.Linear(64, 5)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(h.permute(0, 2, 3, 1).flatten(1))


class Attention(nn.Module):
    """x [N,4,8]: h = LayerNorm(8, eps 1e-5)(x); single-head attention
    softmax(q kᵀ/√8) v with q,k,v = h·W (no bias); x + o·Wo (residual); mean
    over the 4 positions; Linear 8->3; softmax cross-entropy."""

    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(8, eps=1e-5)
        self.wq = nn.Linear(8, 8, bias=False)
        self.wk = nn.Linear(8, 8, bias=False)
        self.wv = nn.Linear(8, 8, bias=False)
        self.wo = nn.Linear(8, 8, bias=False)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        h = self.ln(x)
        q, k, v = self.wq(h), self.wk(h), self.wv(h)
        a = torch.softmax(q @ k.transpose(1, 2) / np.sqrt(8.0), dim=-1)
        y = x + self.wo(a @ v)
        return self.fc(y.mean(dim=1))


def build(case):
    torch.manual_seed({"conv_bn": 8101, "attention": 8102}[case])
    m = ConvBN() if case == "conv_bn" else Attention()
    # Norm scales and offsets away from 1 and 0, so that a mix-up shows.
    with torch.no_grad():
        norm = m.bn if case == "conv_bn" else m.ln
        norm.weight.copy_(1 + 0.2 * torch.randn(norm.weight.shape))
        norm.bias.copy_(0.2 * torch.randn(norm.bias.shape))
    g = torch.Generator().manual_seed({"conv_bn": 8201, "attention": 8202}[case])
    if case == "conv_bn":
        x = torch.rand(8, 1, 8, 8, generator=g)
        labels = torch.randint(0, 5, (8,), generator=g)
    else:
        x = torch.randn(8, 4, 8, generator=g)
        labels = torch.randint(0, 3, (8,), generator=g)
    return m, x, labels


def state(m):
    """Parameters and buffers (running statistics), name -> float32 array."""
    out = {n: p.detach().numpy().astype(np.float32).copy() for n, p in m.named_parameters()}
    for n, b in m.named_buffers():
        if b.dtype == torch.float32:
            out[n] = b.detach().numpy().astype(np.float32).copy()
    return out


def write(path, a):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.ascontiguousarray(a, dtype="<f4").tofile(path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    manifest = {"format_version": 1, "torch": torch.__version__, "steps": STEPS, "snapshot_steps": list(SNAP_STEPS),
                "layout": "float32, little-endian, C order, no header; torch layouts (Linear weight [out, in], Conv2d [out, in, kh, kw])",
                "cases": []}
    for case in ("conv_bn", "attention"):
        m0, x, labels = build(case)
        init = state(m0)
        c = {"name": case, "input": {"file": f"{case}/input.bin", "shape": list(x.shape)},
             "labels": labels.tolist(), "params": {}, "optimizers": []}
        write(os.path.join(out, c["input"]["file"]), x.numpy())
        for n, a in init.items():
            f = f"{case}/params/{n}.bin"
            write(os.path.join(out, f), a)
            c["params"][n] = {"file": f, "shape": list(a.shape)}
        for name, hyper, make in OPTIMIZERS:
            m, _, _ = build(case)
            m.train()
            opt = make(m.parameters())
            losses, snaps = [], {}
            for step in range(1, STEPS + 1):
                opt.zero_grad()
                loss = F.cross_entropy(m(x), labels)
                loss.backward()
                opt.step()
                losses.append(float(np.float32(loss.item())))
                if step in SNAP_STEPS:
                    snaps[str(step)] = {}
                    for n, a in state(m).items():
                        f = f"{case}/optim/{name}/step_{step}/{n}.bin"
                        write(os.path.join(out, f), a)
                        snaps[str(step)][n] = f
            c["optimizers"].append({"name": name, "hyperparameters": hyper, "losses": losses, "snapshots": snaps})
        manifest["cases"].append(c)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
