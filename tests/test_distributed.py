"""DistillationTrainer on two processes for real (torchrun, gloo, CPU) equals one process with the same global batch."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "scripts" / "ddp_distil.py"
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, out):
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", TRL_EXPERIMENTAL_SILENCE="1")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(Path(out).read_text())


@pytest.mark.parametrize("chunk", [0, 5], ids=["full-logits", "chunked"])
def test_two_processes_equal_one(tmp_path, chunk):
    "Global batch 16 = 2 x 8 on two processes (ragged token counts): same logged losses and same weights."
    one = run([sys.executable, str(SCRIPT), str(tmp_path / "one.json"), "16", str(chunk)], tmp_path / "one.json")
    two = run([str(BIN / "torchrun"), "--nproc_per_node", "2", "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
               str(SCRIPT), str(tmp_path / "two.json"), "8", str(chunk)], tmp_path / "two.json")
    assert (one["world"], two["world"]) == (1, 2)
    assert len(one["loss"]) == len(two["loss"]) == 4
    for a, b in zip(one["loss"], two["loss"]):
        assert abs(a - b) <= 1e-6 * max(1.0, abs(a)), (one["loss"], two["loss"])
    assert max(abs(a - b) for a, b in zip(one["params"], two["params"])) < 1e-9
    assert abs(one["param_norm"] - two["param_norm"]) < 1e-9
