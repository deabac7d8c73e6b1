#!/usr/bin/python3
"""PyTorch peer for bench/models.sh: one thread configuration per process.

Trains the reference MLP (torch_mlp.train: 5 epochs, batch 128, Adam, the
per-epoch randperm/gather loop with loss.item() per step) or LeNet-5
(torch_cnn.train_epoch: 1 epoch after 5 untimed warm-up steps), each inside
common.clean_run as the peer scripts do, then times the trained model's
inference with common.bench_infer, the peers' own timing function, for the
TorchScript variants the peer scripts build (trace+freeze, script+freeze for
the MLP, optimize_for_inference; eager with --eager) at batch 1 and 128 only.
Everything but the reduced batch list and the skipped ONNX export is the peer
scripts' code, imported from ../shared/peers (PEERS_DIR overrides).

Prints one JSON object per line (lines starting with "{"); the peer
functions' own progress lines are left in between.

  /usr/bin/python3 bench/models_peer.py --model mlp --threads 2 --blas-threads 1
"""
import argparse
import json
import os
import sys

PEERS = os.environ.get("PEERS_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peers")
sys.path.insert(0, PEERS)
import common  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

# The quiet-machine check before each block lasts PEERS_QUIET_WINDOW seconds (common.py: 2),
# shortened by models.sh to keep a round short; clean_run looks wait_quiet up at each call.
_wait_quiet = common.wait_quiet
QUIET_WINDOW = float(os.environ.get("PEERS_QUIET_WINDOW", "2"))
common.wait_quiet = lambda *a, **k: _wait_quiet(*a, **dict({"window_s": QUIET_WINDOW}, **k))


def emit(**kw):
    print(json.dumps(kw), flush=True)


def variants(model, example, script, eager):
    """The inference variants torch_mlp.py / torch_cnn.py build, same order."""
    out = [("eager", model)] if eager else []
    with torch.no_grad():
        try:
            out.append(("jit.trace+freeze", torch.jit.freeze(torch.jit.trace(model, example))))
        except Exception as e:  # noqa: BLE001
            print("jit.trace+freeze failed:", repr(e))
        if script:
            try:
                out.append(("jit.script+freeze", torch.jit.freeze(torch.jit.script(model))))
            except Exception as e:  # noqa: BLE001
                print("jit.script+freeze failed:", repr(e))
        try:
            out.append(("jit.optimize_for_inference",
                        torch.jit.optimize_for_inference(torch.jit.trace(model, example))))
        except Exception as e:  # noqa: BLE001
            print("jit.optimize_for_inference failed:", repr(e))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["mlp", "lenet"], required=True)
    ap.add_argument("--threads", type=int, required=True, help="torch (OpenMP) threads")
    ap.add_argument("--blas-threads", type=int, default=None, help="OpenBLAS threads (default: --threads)")
    ap.add_argument("--epochs", type=int, default=5, help="MLP training epochs (LeNet: always 1, as torch_cnn.py)")
    ap.add_argument("--batches", default="1,128")
    ap.add_argument("--eager", action="store_true", help="also time eager inference")
    ap.add_argument("--no-train", action="store_true", help="time inference of an untrained model")
    args = ap.parse_args()
    common.BLAS_THREADS = args.blas_threads
    thr = args.threads
    config = common.thread_label(thr)
    xtr, ytr, xte, yte = common.load_mnist()
    Xtr, Ytr, Xte, Yte = map(torch.from_numpy, (xtr, ytr, xte, yte))
    if args.model == "mlp":
        import torch_mlp

        if args.no_train:
            common.set_threads(thr)
            torch.manual_seed(0)
            model = torch_mlp.build_mlp()
        else:
            (model, r), foreign, tries = common.clean_run(
                lambda: torch_mlp.train(thr, args.epochs, Xtr, Ytr, Xte, Yte))
            emit(kind="train", model="mlp", config=config, samples_per_s=r["samples_per_s_median"],
                 epoch_samples_per_s=[60000 / t for t in r["epoch_times_s"]], test_acc=r["test_acc"],
                 test_loss=r["test_loss"], epochs=args.epochs, foreign=round(foreign, 3), tries=tries)
        infer_model = nn.Sequential(model, nn.Softmax(dim=1)).eval()
        inputs = {1: Xte[:1].contiguous(), 128: Xte[:128].contiguous()}
        vs = variants(infer_model, inputs[128], True, args.eager)
    else:
        import torch_cnn

        Xtr, Xte = Xtr.reshape(-1, 1, 28, 28), Xte.reshape(-1, 1, 28, 28).contiguous()
        if args.no_train:
            common.set_threads(thr)
            torch.manual_seed(0)
            model = torch_cnn.LeNet()
        else:
            (model, r), foreign, tries = common.clean_run(
                lambda: torch_cnn.train_epoch(thr, Xtr, Ytr, Xte, Yte))
            emit(kind="train", model="lenet", config=config, samples_per_s=r["samples_per_s_epoch"],
                 chunk_samples_per_s=r["chunk_samples_per_s_median"], test_acc=r["test_acc"],
                 test_loss=r["test_loss"], epochs=1, foreign=round(foreign, 3), tries=tries)
        model = model.eval()
        inputs = {1: Xte[:1].contiguous(), 128: Xte[:128].contiguous()}
        vs = variants(model, inputs[128], False, args.eager)
    batches = [int(b) for b in args.batches.split(",")]
    plan = [p for p in common.INFER_PLAN if p[1] in batches]
    common.set_threads(thr)
    with torch.no_grad():
        for name, m in vs:
            for r in common.bench_infer(m, inputs, plan=plan, label=name):
                emit(kind="infer", model=args.model, config=config, variant=name, batch=r["batch"],
                     median_s=r["median"], min_s=r["min"], max_s=r["max"], calls=r["n"],
                     foreign=r["foreign_cores"], tries=r["tries"])


if __name__ == "__main__":
    main()
