#!/usr/bin/env bash
# Runs dlc's SGEMM benchmarks (runtime.BenchmarkSgemm) and the NumPy/OpenBLAS
# peer on the same shapes and thread counts, one after the other in each of
# several rounds, and prints GFLOP/s and the ratio dlc/OpenBLAS per shape.
#
#   bash bench/peers.sh [--rounds N] [--shapes 128x784x64,...] [--threads 1,2] [--benchtime 0.5s]
#
# Needs /usr/bin/python3 with Debian's numpy on OpenBLAS (python3-numpy,
# libopenblas0-pthread; installed here when missing and running as root)
# and ../shared/peers beside the repository (PEERS_DIR overrides). The peer
# runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so that OpenBLAS
# uses its kernel for this CPU; nothing else is changed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PEERS_DIR="${PEERS_DIR:-$(cd .. && pwd)/shared/peers}"
if [ ! -f "$PEERS_DIR/common.py" ]; then
  echo "peers.sh: no peer scripts at $PEERS_DIR (set PEERS_DIR)" >&2; exit 1
fi

have_peer() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 -c \
    'import numpy, ctypes; ctypes.CDLL("libopenblas.so.0")' 2>/dev/null
}
if ! have_peer; then
  if [ "$(id -u)" = 0 ]; then
    echo "peers.sh: installing python3-numpy and libopenblas0-pthread" >&2
    apt-get update -qq && apt-get install -y -qq python3-numpy libopenblas0-pthread >/dev/null
  fi
  have_peer || { echo "peers.sh: need /usr/bin/python3 with numpy on OpenBLAS (apt-get install python3-numpy libopenblas0-pthread)" >&2; exit 1; }
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/runtime.test" ./runtime
/usr/bin/python3 bench/peers.py --bin "$tmp/runtime.test" "$@"
