"""Shared helpers of the benchmark scripts: peak memory of the current process, robust timing, devices."""
from __future__ import annotations

import resource
import statistics
import time

import torch


def rss_bytes() -> int:
    "Current resident set size of this process."
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def reset_peak_rss() -> None:
    "Reset this process's RSS high-water mark (Linux >= 4.0: write 5 to /proc/self/clear_refs)."
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_rss_bytes() -> int:
    "High-water mark of the resident set size since the last reset (VmHWM)."
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"): return int(line.split()[1]) * 1024
    raise RuntimeError("VmHWM not found in /proc/self/status")


class PeakMemory:
    "Peak memory added by the code inside the block: CUDA allocator stats on GPU, RSS high-water mark on CPU."

    def __init__(self, device: torch.device):
        self.device = device

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(self.device)
            self.base = torch.cuda.memory_allocated(self.device)
        else:
            reset_peak_rss()
            self.base = rss_bytes()
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated(self.device) - self.base
        else:
            self.peak = peak_rss_bytes() - self.base


def median_time(fn, repeats: int, device: torch.device) -> tuple[float, list[float]]:
    "Median wall time of `fn()` over `repeats` runs (call it once before, as a warm-up)."
    times = []
    for _ in range(repeats):
        if device.type == "cuda": torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device.type == "cuda": torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times
