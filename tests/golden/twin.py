"""twin.py — the PyTorch twin of nn/net/unet.c's U-Net colorizer, shared by the
golden-vector script and the benchmarks. Tensor names map one to one:
units["enc0_0"].conv.weight is "enc0.0.conv.weight", head is "head.conv"."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Unit(nn.Module):
    """conv (no bias) + BN + activation, as one nn unit."""

    def __init__(self, cin, cout, stride, act):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = act

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class UNet(nn.Module):
    """The PyTorch twin of nn/net/unet.c's U-Net colorizer."""

    def __init__(self, cin, base, depth, q, upsample, act):
        super().__init__()
        self.depth, self.upsample = depth, upsample
        w = [base << l for l in range(depth)]
        self.units = nn.ModuleDict()
        for l in range(depth):
            self.units[f"enc{l}_0"] = Unit(cin if l == 0 else w[l - 1], w[l], 1 if l == 0 else 2, act)
            self.units[f"enc{l}_1"] = Unit(w[l], w[l], 1, act)
        for l in range(depth - 2, -1, -1):
            self.units[f"dec{l}_0"] = Unit(w[l + 1] + w[l], w[l], 1, act)
            self.units[f"dec{l}_1"] = Unit(w[l], w[l], 1, act)
        self.head = nn.Conv2d(base, q, 1)

    def forward(self, x):
        skips = []
        for l in range(self.depth):
            x = self.units[f"enc{l}_1"](self.units[f"enc{l}_0"](x))
            skips.append(x)
        for l in range(self.depth - 2, -1, -1):
            kw = {"align_corners": False} if self.upsample == "bilinear" else {}
            x = F.interpolate(x, scale_factor=2, mode=self.upsample, **kw)
            x = torch.cat([x, skips[l]], 1)
            x = self.units[f"dec{l}_1"](self.units[f"dec{l}_0"](x))
        return self.head(x)
