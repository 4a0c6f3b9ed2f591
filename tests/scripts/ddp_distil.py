"""Train a tiny student with DistillationTrainer for a few steps and write the logged losses (one or many processes).

python ddp_distil.py OUT.json PER_DEVICE_BATCH CHUNK   (CHUNK 0 = full logits); under torchrun/accelerate for DDP.
"""
import json
import os
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
from transformers import PrinterCallback

from distillnb.data import HMMOracle
from distillnb.lm import DistillationConfig, DistillationTrainer, make_lm, token_dataset

out, per_device, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) or None
torch.set_num_threads(1)
oracle = HMMOracle(V=16, K=8, alpha_T=0.1, alpha_E=0.1, seed=2)
teacher = make_lm("S", 16, 16, seed=1).double()
student = make_lm("XS", 16, 16, seed=0).double()
ds = token_dataset(oracle.sample(64, 16, seed=5), bos=16)
g = torch.Generator().manual_seed(3)
for d, k in zip(ds, torch.randint(2, 16, (len(ds),), generator=g)):  # ragged: processes see different token counts
    d["labels"][1:int(17 - k)] = -100
with tempfile.TemporaryDirectory() as tmp:
    args = DistillationConfig(output_dir=tmp, max_steps=4, per_device_train_batch_size=per_device, learning_rate=1e-2,
                              lr_scheduler_type="constant", logging_steps=1, report_to=[], use_cpu=True, save_strategy="no",
                              disable_tqdm=True, dataloader_num_workers=0, seed=0, kd_weight=0.5, n_vocab=16,
                              chunk_size=chunk, divergence="js", beta=0.3,
                              ddp_backend="gloo" if "WORLD_SIZE" in os.environ else None)
    tr = DistillationTrainer(model=student, args=args, train_dataset=ds, teacher=teacher)
    tr.remove_callback(PrinterCallback)
    tr.train()
if tr.is_world_process_zero():
    w = torch.cat([p.detach().flatten() for p in student.parameters()])
    json.dump({"loss": [r["loss"] for r in tr.state.log_history if "loss" in r], "world": tr.args.world_size,
               "params": w[:200].tolist(), "param_norm": float(w.norm())}, open(out, "w"))
