#!/usr/bin/python3
"""Driver for bench/models.sh: dlc's models beside PyTorch and onnxruntime.

Workloads (--only picks some): mlp (examples/mnist, the reference MLP
784-64-64-10), lenet (examples/lenet, LeNet-5), tblock (the peers'
transformer block, models/tblock.onnx, through dlc's ONNX frontend).

Each round runs, per workload, dlc's measurements and then the peers' (the
order flips every round, so that drift of the machine does not favour one
side); each figure in the table is the median over rounds of that side's
per-round figure, and the best configuration of each side is the one with
the best median. Every timed block first waits for a quiet machine and is
redone (up to PEERS_MAX_TRIES) when other processes used more than
PEERS_FOREIGN_LIMIT cores during it, as the peer scripts do (their own
blocks do this themselves); "foreign" is the most such load in a kept block.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS = os.environ.get("PEERS_DIR") or os.path.join(ROOT, "..", "shared", "peers")
sys.path.insert(0, PEERS)
import common  # noqa: E402  (wait_quiet, Monitor, fmt_table, fmt_lat; numpy only when used)

PEER_MODELS = os.path.join(PEERS, "models")
# Seconds of the quiet-machine check before each block (the peer scripts use 2; models_peer.py
# applies the same to the PyTorch blocks; ort_bench.js keeps its 2).
QUIET_WINDOW = float(os.environ.get("PEERS_QUIET_WINDOW", "2"))
TORCH_CONFIGS = [(1, None), (2, None), (2, 1)]  # torch threads, OpenBLAS threads (None: the same)
WORKERS = [1, 2]
BATCHES = {"mlp": [1, 128], "lenet": [1, 128], "tblock": [32]}
ONNX = {"mlp": "mlp", "lenet": "lenet", "tblock": "tblock"}  # workload -> models/<name>.onnx
EXAMPLE = {"mlp": "mnist", "lenet": "lenet"}  # workload -> examples/<name>


START = time.time()


def log(msg):
    print("[%5.0fs] %s" % (time.time() - START, msg), file=sys.stderr, flush=True)


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def block(cmd, env=None, cwd=None, retry=True):
    """Run cmd after waiting for a quiet machine; redo it if other processes used more than
    FOREIGN_LIMIT cores meanwhile (when retry). Returns (stdout, foreign, tries)."""
    best = None
    for i in range(common.MAX_TRIES if retry else 1):
        common.wait_quiet(window_s=QUIET_WINDOW, verbose=False)
        mon = common.Monitor()
        p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
        f = mon.foreign()
        if p.returncode != 0:
            sys.exit("failed (exit %d): %s\n%s" % (p.returncode, " ".join(cmd), (p.stdout + p.stderr)[-4000:]))
        if best is None or f < best[1]:
            best = (p.stdout, f, i + 1)
        if f <= common.FOREIGN_LIMIT:
            break
        if i + 1 < (common.MAX_TRIES if retry else 1):
            log("  [retry] %.2f foreign cores during %s" % (f, os.path.basename(cmd[0])))
    return best


# ---------------------------------------------------------------- building the dlc side
def go_env():
    return dict(os.environ, GOWORK="off", GOFLAGS="-mod=mod")


def require_lines(gomod):
    """The require directives of a go.mod, as lines for another go.mod."""
    out, inblock = [], False
    for line in gomod.splitlines():
        s = line.strip()
        if s.startswith("require ("):
            inblock = True
            out.append(line)
        elif inblock:
            out.append(line)
            if s == ")":
                inblock = False
        elif s.startswith("require "):
            out.append(line)
    return "\n".join(out) + "\n"


def build_latency(args, workloads):
    """Compiles the peers' ONNX files with dlc and builds one program (bench/latency.Main)
    holding them and the examples' generated packages. Returns (binary, {workload: reason})
    where reason says why dlc cannot run a workload's ONNX file yet."""
    mod = os.path.join(args.tmp, "latencymod")
    os.makedirs(mod, exist_ok=True)
    unsupported, onnx_pkgs = {}, []
    for w in workloads:
        src = os.path.join(PEER_MODELS, ONNX[w] + ".onnx")
        pkg = "onnx_" + ONNX[w]
        p = subprocess.run([args.dlc, "compile", src, "-o", os.path.join(mod, pkg), "-pkg", pkg],
                           capture_output=True, text=True)
        if p.returncode != 0:
            first = (p.stderr.strip().splitlines() or ["exit status %d" % p.returncode])[0]
            unsupported[w] = "dlc compile %s: %s" % (os.path.basename(src),
                                                     first.replace(src + ": ", "").replace("dlc compile: ", "").rstrip(":"))
            continue
        onnx_pkgs.append((w, pkg))
    with open(os.path.join(ROOT, "go.mod")) as f:
        gomod = f.read()
    with open(os.path.join(mod, "go.mod"), "w") as f:
        f.write("module dlcpeers\n\ngo 1.26\n\nrequire github.com/dlc-project/dlc v0.0.0\n\n"
                "replace github.com/dlc-project/dlc => %s\n\n%s" % (json.dumps(ROOT), require_lines(gomod)))
    with open(os.path.join(ROOT, "go.sum")) as f, open(os.path.join(mod, "go.sum"), "w") as g:
        g.write(f.read())
    # A generated package that does not build is reported like one dlc cannot compile.
    for w, pkg in list(onnx_pkgs):
        p = subprocess.run(["go", "build", "./" + pkg], cwd=mod, env=go_env(), capture_output=True, text=True)
        if p.returncode != 0:
            err = [l for l in p.stderr.splitlines() if not l.startswith("#")] or ["?"]
            unsupported[w] = "the Go package dlc generates from %s.onnx does not build: %s" % (ONNX[w], err[0])
            onnx_pkgs.remove((w, pkg))
    imports = ['\t"github.com/dlc-project/dlc/bench/latency"']
    entries = []
    for w in workloads:
        if w in EXAMPLE:
            alias = "ex_" + EXAMPLE[w]
            imports.append('\t%s "github.com/dlc-project/dlc/examples/%s/model"' % (alias, EXAMPLE[w]))
            entries.append((EXAMPLE[w], alias))
    for w, pkg in onnx_pkgs:
        imports.append('\t"dlcpeers/%s"' % pkg)
        entries.append((pkg, pkg))
    body = "".join('\t\t"%s": func(mb, w int) latency.Model {\n\t\t\treturn %s.New(%s.Options{MaxBatch: mb, Seed: 1, Workers: w})\n\t\t},\n'
                   % (name, alias, alias) for name, alias in entries)
    with open(os.path.join(mod, "main.go"), "w") as f:
        f.write("// Code generated by bench/models.py. DO NOT EDIT.\n\npackage main\n\nimport (\n%s\n)\n\n"
                "func main() {\n\tlatency.Main(map[string]latency.New{\n%s\t})\n}\n" % ("\n".join(imports), body))
    binary = os.path.join(args.tmp, "latency")
    p = subprocess.run(["go", "build", "-o", binary, "."], cwd=mod, env=go_env(), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("building the latency program in %s failed:\n%s" % (mod, p.stderr[-4000:]))
    return binary, unsupported, [w for w, _ in onnx_pkgs]


# ---------------------------------------------------------------- measurements
class Results:
    def __init__(self):
        self.rows = []  # dicts: workload, metric, side, config, value, foreign, round

    def add(self, rnd, workload, metric, side, config, value, foreign):
        self.rows.append(dict(round=rnd, workload=workload, metric=metric, side=side, config=config,
                              value=value, foreign=foreign))

    def groups(self, workload, metric, side):
        """{config: (median, min, max, max foreign, rounds)}"""
        by = {}
        for r in self.rows:
            if (r["workload"], r["metric"], r["side"]) == (workload, metric, side):
                by.setdefault(r["config"], []).append(r)
        return {c: (statistics.median(x["value"] for x in rs), min(x["value"] for x in rs),
                    max(x["value"] for x in rs), max(x["foreign"] for x in rs), len(rs))
                for c, rs in by.items()}


def dlc_train(args, res, rnd, w):
    binary = args.mnist_train if w == "mlp" else args.lenet_train
    epochs = args.epochs if w == "mlp" else 1
    out, f, _ = block([binary, "-json", "-workers", "2", "-run-dir", "", "-epochs", str(epochs),
                       "-data", args.mnist_dir], cwd=args.tmp)
    rep = json_lines(out)[-1]
    rate = statistics.median(e["samples_per_sec"] for e in rep["history"])
    res.add(rnd, w, "train", "dlc", "2 workers", rate, f)
    res.add(rnd, w, "acc", "dlc", "2 workers", rep["test_accuracy"], f)
    log("  dlc %s training: %.0f samples/s (median epoch of %d), test acc %.4f, foreign %.2f"
        % (w, rate, epochs, rep["test_accuracy"], f))


def dlc_infer(args, res, rnd, w, latency, onnx_ok):
    names = ([EXAMPLE[w]] if w in EXAMPLE else []) + (["onnx_" + ONNX[w]] if w in onnx_ok else [])
    for name in names:
        for workers in WORKERS:
            cmd = [latency, "-model", name, "-workers", str(workers),
                   "-batches", ",".join(map(str, BATCHES[w]))]
            if name.startswith("onnx_"):
                ref = {"mlp": "mlp_ref_out.bin", "lenet": "lenet_ref_out.bin", "tblock": "tblock_ref_out.bin"}[w]
                cmd += ["-ref", os.path.join(PEER_MODELS, ref)]
                if w == "tblock":
                    cmd += ["-input", os.path.join(PEER_MODELS, "tblock_ref_in.bin")]
            if args.budget:
                cmd += ["-budget", "%gs" % args.budget]
            out, f, _ = block(cmd)
            label = ("%s.onnx" % ONNX[w] if name.startswith("onnx_") else "examples/%s" % name) + \
                ", %d worker%s" % (workers, "s" if workers > 1 else "")
            rs = json_lines(out)
            for r in rs:
                res.add(rnd, w, "b%d" % r["batch"], "dlc", label, r["median_s"], f)
            if rs and rs[0].get("max_abs_diff") is not None:  # the same check on every line
                res.add(rnd, w, "diff", "dlc", label, rs[0]["max_abs_diff"], f)
            log("  dlc %s %s: %s" % (w, label, ", ".join("b%d %s" % (r["batch"], common.fmt_lat(r["median_s"]))
                                                          for r in json_lines(out))))


def torch_side(args, res, rnd, w):
    for thr, blas in TORCH_CONFIGS:
        cmd = ["/usr/bin/python3", os.path.join(HERE, "models_peer.py"), "--model", w, "--threads", str(thr),
               "--epochs", str(args.epochs)]
        if blas:
            cmd += ["--blas-threads", str(blas)]
        if args.eager:
            cmd.append("--eager")
        # The peer process waits for quiet and retries each of its blocks itself.
        p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        if p.returncode != 0:
            sys.exit("peer failed: %s\n%s" % (" ".join(cmd), (p.stdout + p.stderr)[-4000:]))
        for r in json_lines(p.stdout):
            if r["kind"] == "train":
                res.add(rnd, w, "train", "torch", "threads " + r["config"], r["samples_per_s"], r["foreign"])
                res.add(rnd, w, "acc", "torch", "threads " + r["config"], r["test_acc"], r["foreign"])
                log("  torch %s training, threads %s: %.0f samples/s, test acc %.4f, foreign %.2f"
                    % (w, r["config"], r["samples_per_s"], r["test_acc"], r["foreign"]))
            else:
                res.add(rnd, w, "b%d" % r["batch"], "torch", "%s, threads %s" % (r["variant"], r["config"]),
                        r["median_s"], r["foreign"])
        inf = [r for r in json_lines(p.stdout) if r["kind"] == "infer"]
        log("  torch %s inference, threads %s: %s" % (w, inf[0]["config"] if inf else thr, ", ".join(
            "%s b%d %s" % (r["variant"].replace("jit.", ""), r["batch"], common.fmt_lat(r["median_s"])) for r in inf)))


def ort_side(args, res, rnd, w):
    outdir = os.path.join(args.tmp, "ort")
    os.makedirs(outdir, exist_ok=True)
    cmd = ["node", os.path.join(PEERS, "ort_bench.js"), ONNX[w]]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=args.tmp, env=dict(os.environ, PEERS_RESULTS=outdir))
    if p.returncode != 0:
        sys.exit("onnxruntime peer failed: %s\n%s" % (" ".join(cmd), (p.stdout + p.stderr)[-4000:]))
    with open(os.path.join(outdir, "ort_%s.json" % ONNX[w])) as f:
        d = json.load(f)
    for r in d["results"]:
        if r["batch"] in BATCHES[w]:
            res.add(rnd, w, "b%d" % r["batch"], "ort", "%d thread%s" % (r["threads"], "s" if r["threads"] > 1 else ""),
                    r["median"], r["foreign_cores"])
    log("  onnxruntime %s: %s" % (w, ", ".join("%dt b%d %s" % (r["threads"], r["batch"], common.fmt_lat(r["median"]))
                                               for r in d["results"] if r["batch"] in BATCHES[w])))


# ---------------------------------------------------------------- report
SIDE = {"dlc": "dlc", "torch": "PyTorch", "ort": "onnxruntime"}


def report(args, res, workloads, unsupported, info):
    print("dlc vs peers, %s | %s" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), info))
    print("medians over %d round%s (each round: dlc and the peers one after the other, order flipped every "
          "round); [min-max] over rounds; foreign = most CPU other processes used during a kept block (cores); "
          "speed-up = peer time / dlc time (>1: dlc faster); accuracy rows: dlc minus peer"
          % (args.rounds, "s" if args.rounds > 1 else ""))
    rows, detail = [], []
    fmt_v = lambda metric, v: ("%.0f/s" % v if metric == "train" else "%.4f" % v if metric == "acc"
                               else "%.2g" % v if metric == "diff" else common.fmt_lat(v))
    rng = lambda metric, g: "%s-%s" % (fmt_v(metric, g[1]), fmt_v(metric, g[2]))
    names = {"mlp": "MLP 784-64-64-10", "lenet": "LeNet-5", "tblock": "transformer block"}
    for w in workloads:
        metrics = []
        if w in EXAMPLE:
            ep = args.epochs if w == "mlp" else 1
            metrics += [("train", "training samples/s, batch 128 (%s)" % ("median epoch of %d" % ep if ep > 1 else "1 epoch"), "torch"),
                        ("acc", "test accuracy after %d epoch%s" % (ep, "s" if ep > 1 else ""), "torch")]
        for b in BATCHES[w]:
            metrics += [("b%d" % b, "inference latency, batch %d" % b, "ort")]
            if w in EXAMPLE:
                metrics += [("b%d" % b, "inference latency, batch %d" % b, "torch")]
        for metric, title, peer in metrics:
            d, p = res.groups(w, metric, "dlc"), res.groups(w, metric, peer)
            if metric == "acc":  # the accuracy of each side's fastest training configuration
                dt, pt = res.groups(w, "train", "dlc"), res.groups(w, "train", peer)
                dc = max(dt, key=lambda c: dt[c][0]) if dt else None
                pc = max(pt, key=lambda c: pt[c][0]) if pt else None
                dc, pc = (dc if dc in d else None), (pc if pc in p else None)
            else:
                better = max if metric == "train" else min
                dc = better(d, key=lambda c: d[c][0]) if d else None
                pc = better(p, key=lambda c: p[c][0]) if p else None
            if dc is None and w in unsupported:
                dtxt = "not supported yet: " + unsupported[w]
            else:
                dtxt = "%s (%s)" % (fmt_v(metric, d[dc][0]), dc) if dc else "-"
            ptxt = "%s (%s)" % (fmt_v(metric, p[pc][0]), pc) if pc else "-"
            if dc and pc:
                sp = (d[dc][0] / p[pc][0] if metric == "train" else p[pc][0] / d[dc][0] if metric != "acc" else None)
                sp = "%.2fx" % sp if sp else "%+.4f" % (d[dc][0] - p[pc][0])
                rngs = "%s / %s" % (rng(metric, d[dc]), rng(metric, p[pc]))
                fr = "%.2f / %.2f" % (d[dc][3], p[pc][3])
            else:
                sp, rngs, fr = "", "", ""
            rows.append([names[w], title, dtxt, SIDE[peer] + " " + ptxt, sp, rngs, fr])
        for side in ("dlc", "torch", "ort"):
            for metric in ["train", "acc"] + ["b%d" % b for b in BATCHES[w]] + ["diff"]:
                for c, g in sorted(res.groups(w, metric, side).items()):
                    detail.append([names[w], metric, SIDE[side], c, fmt_v(metric, g[0]), rng(metric, g), "%.2f" % g[3], g[4]])
    print(common.fmt_table(["workload", "figure", "dlc (best config)", "best peer (config)", "dlc speed-up",
                            "range dlc / peer", "foreign dlc / peer"], rows))
    for w in workloads:
        if w in unsupported and w in EXAMPLE:  # the table shows the examples' figures; say what is missing
            print("%s: not supported yet through the ONNX frontend: %s" % (names[w], unsupported[w]))
    checks = must_show(res, workloads)
    if checks:
        print("\nissue 6's Must-show lines that these figures decide (same run, same machine):")
        print(common.fmt_table(["claim", "dlc", "peer", "dlc / peer", "holds"], checks))
    bad = [(w, c, g[0]) for w in workloads for c, g in res.groups(w, "diff", "dlc").items() if g[0] > 1e-3]
    for w, c, d in bad:
        print("WARNING: %s %s differs from the torch reference outputs by up to %.3g" % (names[w], c, d))
    print("\nevery configuration (metric: train = samples/s, acc = test accuracy, bN = latency at batch N, "
          "diff = max |dlc - torch reference| over the reference samples):")
    print(common.fmt_table(["workload", "metric", "side", "configuration", "median", "range", "foreign", "rounds"], detail))


def best(res, w, metric, side, config=None, higher=False):
    """(median, config) of a side's best configuration (or of the given one), or None."""
    g = res.groups(w, metric, side)
    if config is not None:
        g = {c: v for c, v in g.items() if c == config}
    if not g:
        return None
    c = (max if higher else min)(g, key=lambda k: g[k][0])
    return g[c][0], c


def must_show(res, workloads):
    """Rows [claim, dlc, peer, ratio, holds] for the Must-show lines of issue 6 that the run covers."""
    rows = []
    lat = common.fmt_lat
    side = lambda t, s: (t[0], SIDE[s] + " " + t[1]) if t else None

    def add(claim, d, p, ratio, ok, fmt):
        if d and p:
            rows.append([claim, "%s (%s)" % (fmt(d[0]), d[1]), "%s (%s)" % (fmt(p[0]), p[1]), "%.2f" % ratio(d[0], p[0]),
                         "yes" if ok(d[0], p[0]) else "NO"])

    rate = lambda v: "%.0f/s" % v
    if "mlp" in workloads:
        d, p = best(res, "mlp", "train", "dlc", higher=True), side(best(res, "mlp", "train", "torch", higher=True), "torch")
        add("MLP training (batch 128, 2 cores) >= 2x PyTorch's best configuration", d, p,
            lambda a, b: a / b, lambda a, b: a >= 2 * b, rate)
        if d:
            acc = best(res, "mlp", "acc", "dlc", config=d[1], higher=True)
            if acc:
                rows.append(["MLP test accuracy unchanged (>= 0.97 after the epochs run)", "%.4f" % acc[0], "", "",
                             "yes" if acc[0] >= 0.97 else "NO"])
        add("MLP inference batch 1: at most half onnxruntime's latency", best(res, "mlp", "b1", "dlc"),
            side(best(res, "mlp", "b1", "ort"), "ort"), lambda a, b: a / b, lambda a, b: a <= b / 2, lat)
        add("MLP inference batch 128: faster than onnxruntime's 2-thread figure", best(res, "mlp", "b128", "dlc"),
            side(best(res, "mlp", "b128", "ort", config="2 threads"), "ort"), lambda a, b: a / b, lambda a, b: a < b, lat)
    if "lenet" in workloads:
        d = best(res, "lenet", "b128", "dlc")
        p = min(filter(None, [side(best(res, "lenet", "b128", "ort"), "ort"),
                              side(best(res, "lenet", "b128", "torch"), "torch")]), default=None)
        add("LeNet-5 inference batch 128 faster than the best peer", d, p, lambda a, b: a / b, lambda a, b: a < b, lat)
        add("LeNet-5 training samples/s faster than the best peer", best(res, "lenet", "train", "dlc", higher=True),
            side(best(res, "lenet", "train", "torch", higher=True), "torch"), lambda a, b: a / b, lambda a, b: a > b, rate)
    return rows


def machine_info(args):
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    gov = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip().replace("go version ", "")
    torch = subprocess.run(["/usr/bin/python3", "-c", "import sys; sys.path.insert(0, %r); import common, torch; "
                            "print('torch %%s, OpenBLAS core %%s' %% (torch.__version__, common.openblas().openblas_get_corename().decode()))" % PEERS],
                           capture_output=True, text=True).stdout.strip()
    return "cpu: %s, %d vCPUs | dlc %s, %s | %s | onnxruntime-node %s" % (
        cpu, os.cpu_count(), commit, gov, torch, args.ort_version)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--dlc", required=True, help="dlc binary")
    ap.add_argument("--mnist-train", required=True, help="examples/mnist binary")
    ap.add_argument("--lenet-train", required=True, help="examples/lenet binary")
    ap.add_argument("--ort-version", default="?")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="mlp,lenet,tblock", help="workloads: mlp, lenet, tblock")
    ap.add_argument("--epochs", type=int, default=5, help="MLP training epochs, both sides (LeNet: 1, as torch_cnn.py)")
    ap.add_argument("--eager", action="store_true", help="also time eager PyTorch inference")
    ap.add_argument("--budget", type=float, default=0, help="dlc: seconds per latency figure (default: the peers' plan)")
    ap.add_argument("--json-out", default="", help="also write every figure to this JSON file")
    args = ap.parse_args()
    workloads = [w for w in args.only.split(",") if w]
    for w in workloads:
        if w not in BATCHES:
            sys.exit("--only: unknown workload %r (mlp, lenet, tblock)" % w)
    args.mnist_dir = os.environ.get("MNIST_DIR") or common.mnist_dir()
    os.environ["MNIST_DIR"] = args.mnist_dir  # the peers' and our readers all take it
    log("building the latency program (dlc compile of the peers' ONNX files) ...")
    latency, unsupported, onnx_ok = build_latency(args, workloads)
    for w, why in sorted(unsupported.items()):
        log("  %s: not supported yet: %s" % (w, why))
    info = machine_info(args)
    res = Results()
    for rnd in range(args.rounds):
        for w in workloads:
            dlc_first = rnd % 2 == 0
            log("round %d/%d, %s: %s first" % (rnd + 1, args.rounds, w, "dlc" if dlc_first else "peers"))
            steps = []
            dlc = []
            if w in EXAMPLE:
                dlc.append(lambda w=w: dlc_train(args, res, rnd, w))
            if w in EXAMPLE or w in onnx_ok:
                dlc.append(lambda w=w: dlc_infer(args, res, rnd, w, latency, onnx_ok))
            peers = ([lambda w=w: torch_side(args, res, rnd, w)] if w in EXAMPLE else []) + \
                [lambda w=w: ort_side(args, res, rnd, w)]
            steps = dlc + peers if dlc_first else peers + dlc
            for s in steps:
                s()
    report(args, res, workloads, unsupported, info)
    print("(%.1f minutes in all)" % ((time.time() - START) / 60))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"info": info, "unsupported": unsupported, "rows": res.rows}, f, indent=1)


if __name__ == "__main__":
    main()
