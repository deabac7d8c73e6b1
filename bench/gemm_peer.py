#!/usr/bin/python3
"""NumPy/OpenBLAS SGEMM peer for bench/peers.sh.

Times C = op(A) @ op(B) in float32 with numpy (OpenBLAS) for the shapes of
runtime.BenchmarkSgemm, on the given thread counts, and prints one JSON
object per line. Plain shapes go through the shared peer script's own
bench_one (../shared/peers/gemm.py); transposed shapes (A^T B, A B^T, as the
MLP's backward pass has) use the same method with transposed views, which
numpy hands to OpenBLAS as transposed sgemm calls (no copies).

Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (peers.sh does), so
that OpenBLAS picks its kernel for this CPU.
"""
import argparse
import json
import os
import sys

PEERS = os.environ.get("PEERS_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peers")
sys.path.insert(0, PEERS)
import common  # noqa: E402
import gemm  # noqa: E402
import numpy as np  # noqa: E402


def bench_trans(M, K, N, ta, tb, budget=0.6, min_n=5):
    """gemm.bench_one for op(A) @ op(B) with transposed operands."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    c = np.empty((M, N), dtype=np.float32)
    oa, ob = (a.T if ta else a), (b.T if tb else b)
    fn = lambda: np.matmul(oa, ob, out=c)
    warm = 3 if M * N * K > 1e8 else 200
    ts, foreign, tries = common.clean_run(
        lambda: common.time_calls_budget(fn, budget, min_n=min_n, warmup=warm))
    st = common.stats(ts)
    return dict(M=M, K=K, N=N, median_s=st["median"], gflops_median=2.0 * M * N * K / st["median"] / 1e9,
                foreign_cores=round(foreign, 3), tries=tries)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--shapes", required=True, help="comma-separated MxKxN[_AtB|_ABt]")
    args = ap.parse_args()
    print(json.dumps({"openblas": common.openblas_info()}), flush=True)
    for thr in [int(t) for t in args.threads.split(",")]:
        common.set_threads(thr)
        for name in args.shapes.split(","):
            dims, _, tr = name.partition("_")
            M, K, N = (int(x) for x in dims.split("x"))
            if tr:
                r = bench_trans(M, K, N, tr == "AtB", tr == "ABt")
            else:
                r = gemm.bench_one("numpy", np.float32, M, K, N)
            print(json.dumps({"shape": name, "threads": thr, "gflops": r["gflops_median"],
                              "foreign": r["foreign_cores"]}), flush=True)


if __name__ == "__main__":
    main()
