#!/usr/bin/python3
"""bench_torch.py — the PyTorch twin of the default U-Net colorizer: times a
training step (forward, cross-entropy, backward, Adam), an inference
forward on 32×32 tiles with the same shapes as bench_step.c, and that
inference under bf16 autocast; prints medians.
Usage: bench_torch.py [batch] [threads] [repeats]"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "golden"))
from twin import UNet  # noqa: E402  (the same twin the golden tests use)

batch = int(sys.argv[1]) if len(sys.argv) > 1 else 64
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 7
torch.set_num_threads(threads)
Q = 313
net = UNet(4, 32, 4, Q, "bilinear", nn.ReLU())
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
x = torch.rand(batch, 4, 32, 32) * 2 - 1
t = torch.randint(0, Q, (batch, 32, 32))
train, infer, infer_bf16 = [], [], []
for r in range(-1, reps):  # r = -1: warm-up, not timed
    net.train()
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = F.cross_entropy(net(x), t)
    loss.backward()
    opt.step()
    t1 = time.perf_counter()
    net.eval()
    with torch.no_grad():
        net(x)
    t2 = time.perf_counter()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        net(x)
    t3 = time.perf_counter()
    if r >= 0:
        train.append(t1 - t0)
        infer.append(t2 - t1)
        infer_bf16.append(t3 - t2)
train.sort()
infer.sort()
infer_bf16.sort()
print(f"torch {torch.__version__}, batch {batch}, threads {threads}")
print(f"train step median {train[reps // 2] * 1e3:.1f} ms = {batch / train[reps // 2]:.1f} img/s")
print(f"inference median {infer[reps // 2] * 1e3:.1f} ms = {batch / infer[reps // 2]:.1f} tiles/s")
print(f"bf16 autocast inference median {infer_bf16[reps // 2] * 1e3:.1f} ms = {batch / infer_bf16[reps // 2]:.1f} tiles/s")
