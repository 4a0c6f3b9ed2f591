"""One variant of the large-vocabulary distillation benchmark, in this (fresh) process.

    python benchmarks/bench_chunked.py --variant naive|chunked|liger --divergence js [--save out.pt]

Forward + backward of the distillation loss from hidden states: student (N, Hs) with head (V, Hs), teacher
(N, Ht) with head (V, Ht), float32, fixed seed. Prints one JSON line: peak memory added by one step
(after a warm-up step), the median time of the timed runs, and the loss value. `--save` writes the value and the
gradients for the error check.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import PeakMemory, median_time  # noqa: E402

from distillnb.chunked import chunked_divergence, naive_divergence  # noqa: E402
from distillnb.divergences import DIVERGENCES  # noqa: E402
from distillnb.train import get_device  # noqa: E402

PARAMS = {"js": {"beta": 0.5}, "skew_forward_kl": {"alpha": 0.1}, "skew_reverse_kl": {"alpha": 0.1}, "taid": {"t": 0.5}}


def inputs(N, V, Hs, Ht, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s, scale=1.0: (scale * torch.randn(*s, generator=g)).to(device)
    hs = r(N, Hs).requires_grad_()
    Ws = r(V, Hs, scale=Hs ** -0.5).requires_grad_()
    ht, Wt = r(N, Ht), r(V, Ht, scale=Ht ** -0.5)
    labels = torch.randint(0, V, (N,), generator=g).to(device)
    labels[: N // 8] = -100  # a prompt-like eighth of the positions is not scored
    return hs, Ws, ht, Wt, labels


def step_fn(variant, divergence, hs, Ws, ht, Wt, labels, chunk_size):
    kw = PARAMS.get(divergence, {})
    if variant == "naive":
        return lambda: naive_divergence(hs, Ws, ht, Wt, divergence=divergence, labels=labels, **kw)
    if variant == "chunked":
        return lambda: chunked_divergence(hs, Ws, ht, Wt, divergence=divergence, labels=labels,
                                          chunk_size=chunk_size, **kw)
    if variant == "liger":
        if divergence != "js": raise SystemExit("liger: only its chunked JSD is compared")
        from liger_kernel.chunked_loss import LigerFusedLinearJSDLoss
        loss = LigerFusedLinearJSDLoss(weight_hard_loss=0.0, weight_soft_loss=1.0, beta=kw["beta"], temperature=1.0,
                                       compiled=False, chunk_size=chunk_size)
        return lambda: loss(hs, Ws, ht, Wt, labels)
    raise SystemExit(f"--variant: expected naive, chunked or liger, received {variant!r}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--variant", required=True)
    ap.add_argument("--divergence", default="forward_kl", choices=sorted(DIVERGENCES))
    ap.add_argument("--N", type=int, default=4096)
    ap.add_argument("--V", type=int, default=32000)
    ap.add_argument("--Hs", type=int, default=512)
    ap.add_argument("--Ht", type=int, default=1024)
    ap.add_argument("--chunk-size", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--save", default=None)
    ap.add_argument("--measure", default="both", choices=["memory", "time", "both"],
                    help="memory: run with MALLOC_MMAP_THRESHOLD_ fixed (run.py sets it) so RSS follows live tensors")
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    dev = get_device(a.device)
    hs, Ws, ht, Wt, labels = inputs(a.N, a.V, a.Hs, a.Ht, dev)
    loss_fn = step_fn(a.variant, a.divergence, hs, Ws, ht, Wt, labels, a.chunk_size)

    def run():
        hs.grad = Ws.grad = None
        v = loss_fn()
        v.backward()
        return v

    value = run().item()  # warm-up: one-time allocations (thread pools, caches) are not the loss's
    peak = t = times = None
    if a.measure in ("memory", "both"):
        with PeakMemory(dev) as mem:
            run()
        peak = mem.peak
    if a.measure in ("time", "both"):
        t, times = median_time(run, a.repeats, dev)
    if a.save:
        torch.save({"value": value, "hs_grad": hs.grad.cpu(), "Ws_grad": Ws.grad.cpu()}, a.save)
    print(json.dumps({"variant": a.variant, "divergence": a.divergence, "peak_bytes": peak, "time_s": t,
                      "times_s": times, "value": value, "device": str(dev), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
