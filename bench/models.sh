#!/usr/bin/env bash
# Measures dlc's models and the peers (PyTorch, onnxruntime) one after the
# other, in rounds, on this machine, and prints a table of medians and
# ratios:
#
#   bash bench/models.sh [--rounds N] [--only mlp,lenet,tblock] [--epochs N] [--eager] [--json-out FILE]
#
# (--rounds 1 --only mlp for a quick look, 2 minutes; one round of all
# three takes about 4 minutes on 2 quiet cores, longer on a busy machine,
# where blocks wait for quiet and are redone.)
#
# What is measured, and how each side is measured the same way:
# - Reference MLP (examples/mnist: 784-64 relu-64 relu-10 softmax, CCE,
#   Adam 1e-3/0.9/0.999/1e-7, batch 128) and LeNet-5 (examples/lenet).
#   Training samples/s: dlc = the examples' training program (runtime/train,
#   what `dlc train examples/mnist/model.json --json` runs: the same
#   generated package, kept in step by go generate) with 2 workers, its
#   -json report per epoch: each epoch reshuffles, gathers every batch from
#   the preloaded images, runs TrainStep and reads back loss and
#   predictions, as torch_mlp.py's loop does (randperm, X[idx], forward,
#   backward, Adam, loss.item()). MLP: median epoch of 5 epochs on both
#   sides, and the test accuracy after them. LeNet: one epoch on both sides
#   (torch_cnn.py trains one; it also runs 5 untimed warm-up steps first).
#   PyTorch = the peer scripts' own train functions (torch_mlp.train,
#   torch_cnn.train_epoch, via bench/models_peer.py) with 1 thread, 2
#   threads, and 2 threads with OpenBLAS on 1 (the peers' best setting
#   here); the best of the three is the figure.
# - Inference latency at batch 1 and 128: single Predict calls timed as the
#   peers time theirs (bench/latency: warm-up, then single calls for 1.5 s,
#   at least 3000 at batch 1 / 200 otherwise; median) on the first 1 / 128
#   MNIST test images, for the examples' generated package (untrained
#   weights) and for the package `dlc compile` makes from the peers' trained
#   models/mlp.onnx and lenet.onnx (checked against the torch reference
#   outputs: max |diff| in the detail table), each with 1 and 2 workers.
#   Peers: onnxruntime-node 1.30.0 on the same .onnx files, 1 and 2 threads
#   (../shared/peers/ort_bench.js, unchanged), and PyTorch TorchScript
#   (trace+freeze, script+freeze, optimize_for_inference: what the peer
#   scripts build) timed with their common.bench_infer, for the three
#   thread settings.
# - Transformer block (models/tblock.onnx, seq 64, d 128, 4 heads):
#   inference at batch 32 through dlc's ONNX frontend vs onnxruntime; when
#   dlc cannot compile or build it yet, the table says "not supported yet"
#   and why.
#
# Needs ../shared/peers beside the repository (PEERS_DIR overrides),
# /usr/bin/python3 with Debian's torch and numpy on OpenBLAS, node with
# onnxruntime-node in /tmp/ortnode (ORT_NODE_DIR overrides); installed here
# when missing and running as root. Every timed block first waits for a
# quiet machine, at most PEERS_MAX_WAIT seconds (default here 10, the peer
# scripts' own default is 600), judged over PEERS_QUIET_WINDOW seconds
# (default here 1; the peer scripts use 2, which ort_bench.js keeps), and is
# redone when other processes used more than PEERS_FOREIGN_LIMIT cores
# (default 0.25) during it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PEERS_DIR="${PEERS_DIR:-$(cd .. && pwd)/shared/peers}"
export PEERS_MAX_WAIT="${PEERS_MAX_WAIT:-10}"
export PEERS_QUIET_WINDOW="${PEERS_QUIET_WINDOW:-1}"
export ORT_NODE_DIR="${ORT_NODE_DIR:-/tmp/ortnode}"
export PYTHONDONTWRITEBYTECODE=1
if [ ! -f "$PEERS_DIR/common.py" ] || [ ! -f "$PEERS_DIR/models/mlp.onnx" ]; then
  echo "models.sh: no peer scripts and models at $PEERS_DIR (set PEERS_DIR)" >&2; exit 1
fi

have_torch() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 -c \
    'import torch, numpy, ctypes; ctypes.CDLL("libopenblas.so.0")' 2>/dev/null
}
if ! have_torch; then
  if [ "$(id -u)" = 0 ]; then
    echo "models.sh: installing python3-torch, python3-numpy and libopenblas0-pthread" >&2
    apt-get update -qq && apt-get install -y -qq python3-torch python3-numpy libopenblas0-pthread >/dev/null
  fi
  have_torch || { echo "models.sh: need /usr/bin/python3 with torch and numpy on OpenBLAS (apt-get install python3-torch python3-numpy libopenblas0-pthread)" >&2; exit 1; }
fi
ort_version() {
  (cd /tmp && node -e 'const o = require(process.argv[1]); console.log(o.env.versions.node)' \
    "$ORT_NODE_DIR/node_modules/onnxruntime-node") 2>/dev/null
}
if ! command -v node >/dev/null; then
  echo "models.sh: need node (apt-get install nodejs) for onnxruntime-node" >&2; exit 1
fi
if [ -z "$(ort_version)" ]; then
  # The CPU library ships in the npm package; the postinstall step would
  # only fetch optional CUDA files (see ort_bench.js's header).
  echo "models.sh: installing onnxruntime-node@1.30.0 in $ORT_NODE_DIR" >&2
  mkdir -p "$ORT_NODE_DIR"
  (cd "$ORT_NODE_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    ONNXRUNTIME_NODE_INSTALL=skip npm install --silent onnxruntime-node@1.30.0 >/dev/null)
  [ -n "$(ort_version)" ] || { echo "models.sh: onnxruntime-node did not install in $ORT_NODE_DIR" >&2; exit 1; }
fi
# The peer scripts write their json next to themselves unless told otherwise.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PEERS_RESULTS="$tmp/peer-results"

go build -o "$tmp/dlc" ./cmd/dlc
go build -o "$tmp/mnist-train" ./examples/mnist
go build -o "$tmp/lenet-train" ./examples/lenet
/usr/bin/python3 bench/models.py --tmp "$tmp" --dlc "$tmp/dlc" --mnist-train "$tmp/mnist-train" \
  --lenet-train "$tmp/lenet-train" --ort-version "$(ort_version)" "$@"
