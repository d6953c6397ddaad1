#!/usr/bin/env python3
"""levin.py -- the classic baseline for hint propagation, for benchmarks only:
Levin, Lischinski and Weiss 2004, "Colorization using Optimization", with no
network. It reads the JSON of `colorize-train eval --photos DIR --hints K,...
--json FILE` (the same photos, the same hint positions and colours) and
reports, for each hint count, the mean PSNR and gain over gray of a plain
Levin propagation: an affinity on L in 3x3 windows (weights
exp(-(L_r - L_s)^2 / (2 sigma_r^2)), sigma_r the window's variance, as the
paper's code), each hint a hard constraint at its pixel, solved at 256 px on
the long side with a sparse direct solver, ab brought back to full size
bilinearly and joined with the photo's own L.

Usage: levin.py EVAL.json PHOTO_DIR [--side 256]
Needs Debian's python3-numpy, python3-scipy and python3-skimage."""
import argparse
import json
import os
import sys

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from skimage import color, io, transform


def affinity_laplacian(L):
    """I - W, W the row-normalized 3x3 window affinities of Levin et al."""
    h, w = L.shape
    n = h * w
    idx = np.arange(n).reshape(h, w)
    rows, cols, vals = [], [], []
    pad = np.pad(L, 1, mode='edge')
    offsets = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    neigh = np.stack([pad[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy, dx in offsets])
    window = np.concatenate([neigh, L[None]], 0)
    var = window.var(0) * 0.6
    mgv = np.min((window - L[None]) ** 2, axis=0)
    var = np.maximum(var, -mgv / np.log(0.01))
    var = np.maximum(var, 2e-6)
    wts = np.exp(-((neigh - L[None]) ** 2) / var[None])
    valid = np.ones_like(wts, bool)
    for i, (dy, dx) in enumerate(offsets):
        if dy < 0: valid[i, 0, :] = False
        if dy > 0: valid[i, -1, :] = False
        if dx < 0: valid[i, :, 0] = False
        if dx > 0: valid[i, :, -1] = False
    wts = wts * valid
    wts = wts / np.maximum(wts.sum(0, keepdims=True), 1e-12)
    for i, (dy, dx) in enumerate(offsets):
        ys, xs = np.nonzero(valid[i])
        rows.append(idx[ys, xs])
        cols.append(idx[ys + dy, xs + dx])
        vals.append(-wts[i, ys, xs])
    rows.append(np.arange(n)); cols.append(np.arange(n)); vals.append(np.ones(n))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def levin_ab(L_small, hints, scale):
    """ab at the small size: hint pixels fixed, the rest by the affinity."""
    h, w = L_small.shape
    A = affinity_laplacian(L_small / 100.0).tolil()
    b = np.zeros((h * w, 2))
    for x, y, ab in hints:
        px = min(w - 1, int(x * scale)); py = min(h - 1, int(y * scale))
        k = py * w + px
        A.rows[k] = [k]; A.data[k] = [1.0]
        b[k] = ab
    A = A.tocsc()
    sol = spla.splu(A).solve(b) if hints else np.zeros((h * w, 2))
    return sol.reshape(h, w, 2)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 100.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def to_rgb8(L, ab):
    lab = np.dstack([L, ab])
    return np.clip(np.round(color.lab2rgb(lab) * 255), 0, 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('eval_json'); ap.add_argument('photos'); ap.add_argument('--side', type=int, default=256)
    args = ap.parse_args()
    d = json.load(open(args.eval_json))
    gains, counts = {}, []
    for p in d['per_photo']:
        truth = io.imread(os.path.join(args.photos, p['photo']))[..., :3]
        if truth.shape[1] != p['width'] or truth.shape[0] != p['height']:
            truth = np.round(transform.resize(truth, (p['height'], p['width']), anti_aliasing=True) * 255).astype(np.uint8)
        L = color.rgb2lab(truth)[..., 0]
        gray = to_rgb8(L, np.zeros(L.shape + (2,)))
        scale = min(1.0, args.side / max(L.shape))
        small = (max(1, round(L.shape[0] * scale)), max(1, round(L.shape[1] * scale)))
        L_small = transform.resize(L, small, anti_aliasing=True)
        sx = small[1] / L.shape[1]
        line = []
        for c in p['counts']:
            hints = []
            for x, y, hexcol in c['points']:
                rgb = np.array([[[int(hexcol[i:i + 2], 16) for i in (1, 3, 5)]]], np.uint8)
                hints.append((x, y, color.rgb2lab(rgb)[0, 0, 1:]))
            ab_small = levin_ab(L_small, hints, sx)
            ab = transform.resize(ab_small, L.shape + (2,), order=1)
            out = to_rgb8(L, ab)
            g = psnr(out, truth) - psnr(gray, truth)
            gains.setdefault(c['hints'], []).append(g)
            if c['hints'] not in counts: counts.append(c['hints'])
            line.append('%d: %+.2f' % (c['hints'], g))
        print('%-24s %s' % (p['photo'], '  '.join(line)), flush=True)
    print('\n| hints | Levin 2004 gain over gray |\n|---|---|')
    for k in counts:
        print('| %d | %+.2f |' % (k, np.mean(gains[k])))


if __name__ == '__main__':
    sys.exit(main())
