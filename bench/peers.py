#!/usr/bin/python3
"""Driver for bench/peers.sh: dlc's SGEMM beside NumPy/OpenBLAS, same run.

Each round runs every BenchmarkSgemm case of our runtime (one test-binary
call per shape and thread count, after waiting for a quiet machine, redone
when other processes used more than PEERS_FOREIGN_LIMIT cores meanwhile),
then the NumPy/OpenBLAS peer (gemm_peer.py) on the same shapes. The table
gives the median over rounds of each side and their ratio.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.environ.get("PEERS_DIR") or os.path.join(HERE, "..", "..", "shared", "peers")
sys.path.insert(0, PEERS)
import common  # noqa: E402  (wait_quiet, Monitor, fmt_table; does not need numpy until used)

SHAPES = ["128x784x64", "128x64x64", "128x64x10", "1x784x64", "784x128x64_AtB", "128x64x784_ABt",
          "256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048"]


def run_ours(binary, shape, threads, benchtime):
    pat = "^BenchmarkSgemm$/^%s$/^threads=%d$" % (shape, threads)
    best = None
    for _ in range(common.MAX_TRIES):
        common.wait_quiet(verbose=False)
        mon = common.Monitor()
        out = subprocess.run([binary, "-test.run", "^$", "-test.bench", pat, "-test.benchtime", benchtime],
                             capture_output=True, text=True, check=True).stdout
        f = mon.foreign()
        m = re.search(r"\s([\d.]+) GFLOP/s", out)
        if not m:
            sys.exit("no GFLOP/s in benchmark output:\n" + out)
        if best is None or f < best[1]:
            best = (float(m.group(1)), f)
        if f <= common.FOREIGN_LIMIT:
            break
    return best


def run_peer(shapes, threads):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    p = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "gemm_peer.py"), "--threads",
                        ",".join(map(str, threads)), "--shapes", ",".join(shapes)],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("peer failed:\n" + p.stderr[-3000:])
    info, res = "", {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            if "openblas" in d:
                info = d["openblas"]
            else:
                res[(d["shape"], d["threads"])] = (d["gflops"], d["foreign"])
    return info, res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="go test binary of ./runtime")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--benchtime", default="0.5s")
    args = ap.parse_args()
    shapes, threads = args.shapes.split(","), [int(t) for t in args.threads.split(",")]
    kernel = subprocess.run([args.bin, "-test.run", "^TestSgemmKernelName$", "-test.v"],
                            capture_output=True, text=True).stdout
    m = re.search(r"kernel=(\S+)", kernel)
    ours, peer, info = {}, {}, ""
    for r in range(args.rounds):
        print("round %d/%d: dlc ..." % (r + 1, args.rounds), file=sys.stderr, flush=True)
        for thr in threads:
            for s in shapes:
                ours.setdefault((s, thr), []).append(run_ours(args.bin, s, thr, args.benchtime))
        print("round %d/%d: numpy/OpenBLAS ..." % (r + 1, args.rounds), file=sys.stderr, flush=True)
        info, res = run_peer(shapes, threads)
        for key, v in res.items():
            peer.setdefault(key, []).append(v)

    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    print("cpu: %s, %d vCPUs | dlc kernel: %s | peer: %s" % (cpu, os.cpu_count(), m.group(1) if m else "?", info))
    print("GFLOP/s = 2*M*N*K/time; M×K×N as C[M,N] = op(A)[M,K]·op(B)[K,N]; medians of %d rounds "
          "(each round: dlc, then OpenBLAS); [min-max]; foreign = most CPU other processes used "
          "during a kept run (cores)" % args.rounds)
    rows = []
    for thr in threads:
        for s in shapes:
            o, p = ours[(s, thr)], peer.get((s, thr), [])
            og = statistics.median(x[0] for x in o)
            pg = statistics.median(x[0] for x in p) if p else float("nan")
            rows.append([s, thr, "%.1f" % og, "%.0f-%.0f" % (min(x[0] for x in o), max(x[0] for x in o)),
                         "%.1f" % pg, "%.0f-%.0f" % (min(x[0] for x in p), max(x[0] for x in p)) if p else "",
                         "%.2f" % (og / pg), "%.2f / %.2f" % (max(x[1] for x in o), max((x[1] for x in p), default=0))])
    print(common.fmt_table(["shape MxKxN", "threads", "dlc GFLOP/s", "dlc range", "OpenBLAS GFLOP/s",
                            "OpenBLAS range", "dlc/OpenBLAS", "foreign dlc / peer"], rows))


if __name__ == "__main__":
    main()
