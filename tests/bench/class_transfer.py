#!/usr/bin/env python3
"""class_transfer.py -- for benchmarks only: would a colour reference be
matched better by what the network sees than by lightness alone? A proxy
measured without touching the engine, beside plain_transfer.py's baseline.

Every photo (and its reference) is colorized gray through
`colorize-train colorize` with no reference; each pixel's *class* is the
hue of that automatic colour (six 60-degree sectors, or neutral below
chroma 5). Three outputs are then measured as `eval --photos --reference`
measures them:
  plain    each pixel takes the mean ab of the reference's pixels in its
           10-unit band of L* (plain_transfer.py);
  class    ... of the reference's pixels in its band *and of its class*
           (the band's mean where the reference has under 0.2 % of its
           pixels in that cell);
  class+net  the same, but where that cell is empty the pixel keeps the
           network's own colour: the reference knows nothing of it.
and the network alone (no reference).

Usage: class_transfer.py COLORIZE_TRAIN MODEL PHOTO_DIR self|split|REFDIR WORK_DIR
Needs Debian's python3-numpy and python3-skimage."""
import os
import subprocess
import sys

import numpy as np
from skimage import color, io

from plain_transfer import BAND, Figures, gray_of, photo_pairs, rgb8, to_rgb8, transfer

NEUTRAL_CHROMA = 5.0
SECTORS = 6
CELL_MIN_SHARE = 0.002


def classes(ab):
    """The class of each pixel of the automatic colour ab: a hue sector, or SECTORS (neutral)."""
    sector = ((np.arctan2(ab[..., 1], ab[..., 0]) + np.pi) / (2 * np.pi) * SECTORS).astype(int) % SECTORS
    return np.where(np.hypot(ab[..., 0], ab[..., 1]) < NEUTRAL_CHROMA, SECTORS, sector)


def class_transfer(L, ref_lab, cls, ref_cls, net_ab=None):
    """Each pixel takes the mean ab of the reference's pixels of its band and
    class; an empty cell the band's mean, or with net_ab the network's colour."""
    ab = np.zeros(L.shape + (2,))
    ref_band = np.clip((ref_lab[..., 0] // BAND).astype(int), 0, 9)
    band = np.clip((L // BAND).astype(int), 0, 9)
    ref_ab, overall = ref_lab[..., 1:], ref_lab[..., 1:].reshape(-1, 2).mean(0)
    for b in range(10):
        in_band = ref_band == b
        band_mean = ref_ab[in_band].mean(0) if in_band.any() else overall
        for k in range(SECTORS + 1):
            cell, target = in_band & (ref_cls == k), (band == b) & (cls == k)
            if cell.sum() >= CELL_MIN_SHARE * ref_band.size:
                ab[target] = ref_ab[cell].mean(0)
            else:
                ab[target] = net_ab[target] if net_ab is not None else band_mean
    return np.concatenate([L[..., None], ab], -1)


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    tool, model, photos, mode, work = sys.argv[1:]
    os.makedirs(work, exist_ok=True)
    pairs = list(photo_pairs(photos, mode))
    inputs = []
    for name, truth, ref in pairs:
        for tag, img in (("t", truth), ("r", ref)):
            path = os.path.join(work, f"{tag}_{name}")
            io.imsave(path, gray_of(img), check_contrast=False)
            inputs.append(path)
    out_dir = os.path.join(work, "auto")
    subprocess.run([tool, "colorize", "--model", model, "--overwrite", "--out-dir", out_dir] + inputs, check=True,
                   capture_output=True)
    figures = {k: Figures() for k in ("network alone", "plain", "class", "class+net")}
    for name, truth, ref in pairs:
        lab, ref_lab = color.rgb2lab(truth), color.rgb2lab(ref)
        auto = rgb8(os.path.join(out_dir, f"t_{name}"))
        net_ab = color.rgb2lab(auto)[..., 1:]
        ref_cls = classes(color.rgb2lab(rgb8(os.path.join(out_dir, f"r_{name}")))[..., 1:])
        outs = {"network alone": auto, "plain": to_rgb8(transfer(lab[..., 0], ref_lab)),
                "class": to_rgb8(class_transfer(lab[..., 0], ref_lab, classes(net_ab), ref_cls)),
                "class+net": to_rgb8(class_transfer(lab[..., 0], ref_lab, classes(net_ab), ref_cls, net_ab))}
        gains = "  ".join(f"{k} {figures[k].add(o, truth):+6.2f}" for k, o in outs.items())
        print(f"{name:24s} {gains}", flush=True)
    if not pairs:
        sys.exit("no photo measured")
    for k, f in figures.items():
        print(f"{k:14s} ({mode}): {f.summary()}")


if __name__ == "__main__":
    main()
