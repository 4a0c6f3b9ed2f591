"""Run every benchmark, each variant in a fresh subprocess, and write reports/bench.json and reports/bench.md.

    python benchmarks/run.py [--out reports] [--repeats 5] [--divergences forward_kl js ...] [--quick]

Chunked distillation (every registered divergence): naive full-logits vs `distillnb.chunked.chunked_divergence`,
forward + backward, V=32000, N=4096, Hs=512, Ht=1024, float32; Liger-Kernel's chunked JSD against ours on
the same inputs (if liger-kernel is installed: `pip install -e ".[bench]"`). Sinkhorn: B=128 problems of
64 x 64, reg 0.1, float64, against POT. `--quick` shrinks every size for a smoke test.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import torch
from tqdm.auto import tqdm

from distillnb.divergences import DIVERGENCES

HERE = Path(__file__).parent


def run(script, *args, env=None):
    "Run a benchmark script in a fresh Python process; return its JSON line."
    r = subprocess.run([sys.executable, str(HERE / script), *map(str, args)], capture_output=True, text=True,
                       env=None if env is None else {**os.environ, **env})
    if r.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(map(str, args))} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# glibc keeps freed large blocks in its heap once its mmap threshold has grown, and RSS then misses reuse:
# a fixed threshold sends every tensor above 128 KiB to mmap, so the RSS high-water mark follows live tensors.
MEMORY_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072"}


def variant(name, divergence, repeats, sz, save=None):
    "Peak memory (fixed-mmap process) and median time (ordinary process) of one variant."
    m = run("bench_chunked.py", "--variant", name, "--divergence", divergence, "--measure", "memory", *sz, env=MEMORY_ENV)
    t = run("bench_chunked.py", "--variant", name, "--divergence", divergence, "--measure", "time",
            "--repeats", repeats, *sz, *(["--save", save] if save else []))
    return {**t, "peak_bytes": m["peak_bytes"]}


def max_abs_err(p, q):
    a, b = torch.load(p), torch.load(q)
    return max(abs(a["value"] - b["value"]), (a["hs_grad"] - b["hs_grad"]).abs().max().item(),
               (a["Ws_grad"] - b["Ws_grad"]).abs().max().item())


def machine():
    try: import liger_kernel; liger = getattr(liger_kernel, "__version__", "installed")  # noqa: E702
    except ImportError: liger = None
    import ot
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "pot": ot.__version__, "liger_kernel": liger, "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def markdown(res):
    m, L = res["machine"], []
    L += [f"Machine: {m['processor']}, {m['cpu_count']} cores ({m['torch_threads']} torch threads), torch {m['torch']}, "
          f"POT {m['pot']}, Liger-Kernel {m['liger_kernel'] or 'not installed'}; {m['created']}.", "",
          f"**Chunked distillation** (forward + backward, N={res['shape']['N']}, V={res['shape']['V']}, "
          f"Hs={res['shape']['Hs']}, Ht={res['shape']['Ht']}, float32, chunk {res['shape']['chunk_size']}; "
          f"median of {res['repeats']} runs after a warm-up; peak memory added by one step, each variant in a fresh process)", "",
          "| divergence | naive peak (MB) | chunked peak (MB) | mem ratio naive/chunked (target >= 4) | naive time (s) | chunked time (s) | time ratio chunked/naive (target <= 1.2) | max abs err |",
          "|---|---|---|---|---|---|---|---|"]
    for d, r in res["chunked"].items():
        L.append(f"| {d} | {r['naive_peak_mb']:.0f} | {r['chunked_peak_mb']:.0f} | {r['mem_ratio']:.2f} | "
                 f"{r['naive_time_s']:.3f} | {r['chunked_time_s']:.3f} | {r['time_ratio']:.2f} | {r['max_abs_err']:.1e} |")
    if res.get("liger"):
        g = res["liger"]
        L += ["", "**Against Liger-Kernel's chunked JSD** (`LigerFusedLinearJSDLoss(compiled=False)`, same inputs, chunk size, beta 0.5)", "",
              "| | ours | Liger | ratio ours/Liger (target <= 1) |", "|---|---|---|---|",
              f"| peak memory (MB) | {g['ours_peak_mb']:.0f} | {g['liger_peak_mb']:.0f} | {g['mem_ratio']:.2f} |",
              f"| time (s) | {g['ours_time_s']:.3f} | {g['liger_time_s']:.3f} | {g['time_ratio']:.2f} |",
              f"| value | {g['ours_value']:.6f} | {g['liger_value']:.6f} | |"]
    s = res["sinkhorn"]
    L += ["", f"**Batched Sinkhorn** (B={s['B']} problems of {s['n']} x {s['n']}, reg {s['reg']}, float64, tol {s['tol']})", "",
          "| ours (s) | POT loop of ot.sinkhorn2(method='sinkhorn_log') (s) | ot.batch.solve_batch (s) | speed-up vs POT loop (target >= 10) | speed-up vs ot.batch (target >= 1) | max abs err vs POT (target <= 1e-6) |",
          "|---|---|---|---|---|---|",
          f"| {s['time_ours_s']:.4f} | {s['time_pot_loop_s']:.4f} | {s['time_ot_batch_s']:.4f} | {s['speedup_vs_pot_loop']:.1f} | "
          f"{s['speedup_vs_ot_batch']:.2f} | {s['max_abs_err']:.1e} |",
          "", f"Gradients at reg 0.01 in float32 (costs in [0, 2]) finite: {s['grad_finite_reg_0.01_float32']}."]
    return "\n".join(L) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="reports")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--divergences", nargs="+", default=sorted(DIVERGENCES), choices=sorted(DIVERGENCES))
    ap.add_argument("--chunk-size", type=int, default=512)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    a = ap.parse_args(argv)
    shape = dict(N=512, V=2000, Hs=64, Ht=128) if a.quick else dict(N=4096, V=32000, Hs=512, Ht=1024)
    shape["chunk_size"] = min(a.chunk_size, shape["N"] // 4) if a.quick else a.chunk_size
    sz = [f"--{k.replace('_', '-')}={v}" for k, v in shape.items()]
    res = {"machine": machine(), "shape": shape, "repeats": a.repeats, "chunked": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for d in tqdm(a.divergences, desc="chunked vs naive"):
            n = variant("naive", d, a.repeats, sz, f"{tmp}/n.pt")
            c = variant("chunked", d, a.repeats, sz, f"{tmp}/c.pt")
            res["chunked"][d] = {"mem_ratio": n["peak_bytes"] / c["peak_bytes"], "time_ratio": c["time_s"] / n["time_s"],
                                 "max_abs_err": max_abs_err(f"{tmp}/n.pt", f"{tmp}/c.pt"),
                                 "naive_peak_mb": n["peak_bytes"] / 2**20, "chunked_peak_mb": c["peak_bytes"] / 2**20,
                                 "naive_time_s": n["time_s"], "chunked_time_s": c["time_s"]}
        if res["machine"]["liger_kernel"] and "js" in a.divergences:
            o = variant("chunked", "js", a.repeats, sz)
            g = variant("liger", "js", a.repeats, sz)
            res["liger"] = {"mem_ratio": o["peak_bytes"] / g["peak_bytes"], "time_ratio": o["time_s"] / g["time_s"],
                            "ours_peak_mb": o["peak_bytes"] / 2**20, "liger_peak_mb": g["peak_bytes"] / 2**20,
                            "ours_time_s": o["time_s"], "liger_time_s": g["time_s"], "ours_value": o["value"], "liger_value": g["value"]}
    sk = ["--repeats", a.repeats] + (["--B", 16, "--n", 16] if a.quick else [])
    res["sinkhorn"] = run("bench_sinkhorn.py", *sk)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(res, indent=1))
    (out / "bench.md").write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
