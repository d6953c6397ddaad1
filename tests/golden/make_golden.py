#!/usr/bin/python3
"""make_golden.py — writes golden.bin: inputs, weights, outputs and gradients
of each nn layer, of two small U-Nets and of Adam/AdamW steps, computed by
PyTorch. Run with Debian's python3-torch:  /usr/bin/python3 make_golden.py

File layout: see gldn.py. Integer tensors (targets) are stored as float32."""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from gldn import GoldenFile
from twin import UNet

torch.manual_seed(1234)
torch.set_default_dtype(torch.float32)
golden = GoldenFile()


def put(name, t):
    golden.put(name, t.detach().to(torch.float32).numpy())


def rand(*shape, lo=-1.0, hi=1.0):
    return (torch.rand(*shape) * (hi - lo) + lo).requires_grad_(True)


# ---------------------------------------------------------------- layers
for i, (k, s, p, d) in enumerate([(3, 1, 1, 1), (3, 2, 2, 2), (1, 1, 0, 1), (5, 2, 1, 1)]):
    x, w, b = rand(2, 3, 9, 7), rand(5, 3, k, k), rand(5)
    y = F.conv2d(x, w, b, stride=s, padding=p, dilation=d)
    g = torch.randn_like(y)
    y.backward(g)
    put(f"conv{i}.params", torch.tensor([k, s, p, d], dtype=torch.float32))
    for n, t in [("x", x), ("w", w), ("b", b), ("y", y), ("dy", g), ("dx", x.grad), ("dw", w.grad), ("db", b.grad)]:
        put(f"conv{i}.{n}", t)

bn = nn.BatchNorm2d(4, eps=1e-5, momentum=0.1)
with torch.no_grad():
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.5, 0.5)
x = rand(3, 4, 5, 6, lo=-2, hi=3)
y = bn(x)
g = torch.randn_like(y)
y.backward(g)
for n, t in [("x", x), ("gamma", bn.weight), ("beta", bn.bias), ("y", y), ("running_mean", bn.running_mean),
             ("running_var", bn.running_var), ("dy", g), ("dx", x.grad), ("dgamma", bn.weight.grad), ("dbeta", bn.bias.grad)]:
    put(f"bn.{n}", t)
bn.eval()
put("bn.eval_y", bn(x))

for mode in ["nearest", "bilinear"]:
    x = rand(2, 3, 4, 5)
    y = F.interpolate(x, scale_factor=2, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))
    g = torch.randn_like(y)
    y.backward(g)
    for n, t in [("x", x), ("y", y), ("dy", g), ("dx", x.grad)]:
        put(f"up_{mode}.{n}", t)

x = rand(2, 3, 4, 5)
y = F.leaky_relu(x, 0.2)
g = torch.randn_like(y)
y.backward(g)
for n, t in [("x", x), ("y", y), ("dy", g), ("dx", x.grad)]:
    put(f"leaky.{n}", t)

logits = rand(2, 6, 3, 4, lo=-3, hi=3)
targets = torch.randint(0, 6, (2, 3, 4))
weights = torch.rand(6) + 0.5
nll = F.cross_entropy(logits, targets, weight=weights, reduction="none")  # = w[t] * -log p[t]
loss = nll.sum() / nll.numel()
loss.backward()
for n, t in [("logits", logits), ("targets", targets), ("weights", weights), ("loss", loss.reshape(1)), ("dlogits", logits.grad)]:
    put(f"xent.{n}", t)

pred, target = rand(40, lo=-3, hi=3), torch.rand(40) * 6 - 3
for name, fn in [("l1", lambda a, b: F.l1_loss(a, b)), ("huber", lambda a, b: F.huber_loss(a, b, delta=1.0))]:
    pred.grad = None
    loss = fn(pred, target)
    loss.backward()
    for n, t in [("pred", pred), ("target", target), ("loss", loss.reshape(1)), ("dpred", pred.grad)]:
        put(f"{name}.{n}", t)

# ------------------------------------------------------------- optimizer
for name, cls, wd in [("adam", torch.optim.Adam, 0.01), ("adamw", torch.optim.AdamW, 0.05)]:
    p = torch.randn(50, requires_grad=True)
    put(f"{name}.p0", p)
    opt = cls([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    for step in range(3):
        p.grad = torch.randn(50)
        put(f"{name}.g{step}", p.grad)
        opt.step()
        put(f"{name}.p{step + 1}", p)


# ---------------------------------------------------------------- U-Net
def export_unet(prefix, cin, base, depth, q, upsample, act, slope, n, h, w):
    net = UNet(cin, base, depth, q, upsample, act)
    with torch.no_grad():  # non-trivial BN affine parameters and head bias
        for mod in net.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.3, 0.3)
        net.head.bias.uniform_(-0.5, 0.5)
    put(f"{prefix}.config", torch.tensor([cin, base, depth, q, 1 if upsample == "bilinear" else 0,
                                          0 if slope == 0 else 1, slope, n, h, w]))
    named = {}
    for key, unit in net.units.items():
        ours = key.replace("_", ".")
        named[f"{ours}.conv.weight"] = unit.conv.weight
        named[f"{ours}.bn.weight"] = unit.bn.weight
        named[f"{ours}.bn.bias"] = unit.bn.bias
    named["head.conv.weight"] = net.head.weight
    named["head.conv.bias"] = net.head.bias
    for k, v in named.items():
        put(f"{prefix}.param.{k}", v)
    x = rand(n, cin, h, w)
    targets = torch.randint(0, q, (n, h, w))
    weights = torch.rand(q) + 0.5
    logits = net(x)
    nll = F.cross_entropy(logits, targets, weight=weights, reduction="none")
    loss = nll.sum() / nll.numel()
    loss.backward()
    put(f"{prefix}.x", x)
    put(f"{prefix}.targets", targets)
    put(f"{prefix}.weights", weights)
    put(f"{prefix}.logits", logits)
    put(f"{prefix}.loss", loss.reshape(1))
    put(f"{prefix}.dx", x.grad)
    for k, v in named.items():
        put(f"{prefix}.grad.{k}", v.grad)
    for key, unit in net.units.items():
        ours = key.replace("_", ".")
        put(f"{prefix}.running_mean.{ours}", unit.bn.running_mean)
        put(f"{prefix}.running_var.{ours}", unit.bn.running_var)
    net.eval()
    with torch.no_grad():
        put(f"{prefix}.eval_logits", net(x))


export_unet("unetA", 4, 4, 3, 7, "bilinear", nn.ReLU(), 0.0, 2, 8, 8)
export_unet("unetB", 3, 3, 2, 5, "nearest", nn.LeakyReLU(0.2), 0.2, 3, 6, 4)

golden.write(sys.argv[1] if len(sys.argv) > 1 else "golden.bin")
