#!/usr/bin/env python3
"""plain_transfer.py -- the baseline with no network for colour from a
reference, for benchmarks only: each pixel of the gray photo takes the mean
ab of the reference's pixels in its 10-unit band of L* (the whole
reference's mean where that band is empty). It measures the photos the way
`colorize-train eval --photos DIR --reference MODE` does (the gray input is
L* with a* = b* = 0; PSNR on 8-bit sRGB; the wrong-hue rate and the
colourfulness of trainer/metrics.c) and prints the same summary line.

MODE is self (each photo is its own reference), split (the left 60 % of
each photo is colorized and measured, its right 40 % is the reference) or
a folder holding the reference of each photo under the photo's name.

Usage: plain_transfer.py PHOTO_DIR self|split|REFDIR
Needs Debian's python3-numpy and python3-skimage."""
import os
import sys

import numpy as np
from skimage import color, io

BAND = 10.0
SPLIT = 0.4
WRONG_HUE_TRUE_CHROMA, WRONG_HUE_OUTPUT_CHROMA, WRONG_HUE_DEGREES = 20.0, 10.0, 90.0
PHOTO_MIN_MEAN_CHROMA = 2.0


def rgb8(path):
    img = io.imread(path)
    if img.ndim == 2:
        img = np.stack([img] * 3, -1)
    if img.shape[-1] == 4:  # measured as if on black, as eval does
        img = (img[..., :3].astype(np.float64) * img[..., 3:] / 255.0 + 0.5).astype(np.uint8)
    return img[..., :3].astype(np.uint8)


def to_rgb8(lab):
    return (np.clip(color.lab2rgb(lab), 0, 1) * 255.0 + 0.5).astype(np.uint8)


def transfer(L, ref_lab):
    """Each pixel takes the mean ab of the reference's pixels in its band."""
    ab = np.zeros(L.shape + (2,))
    rb = np.clip((ref_lab[..., 0] // BAND).astype(int), 0, 9).ravel()
    rab = ref_lab[..., 1:].reshape(-1, 2)
    overall = rab.mean(0)
    band = np.clip((L // BAND).astype(int), 0, 9)
    for b in range(10):
        sel = rb == b
        ab[band == b] = rab[sel].mean(0) if sel.any() else overall
    return np.concatenate([L[..., None], ab], -1)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 100.0 if mse == 0 else min(100.0, 10 * np.log10(255.0 ** 2 / mse))


def colourfulness(rgb):
    r, g, b = [rgb[..., i].astype(np.float64) for i in range(3)]
    rg, yb = r - g, 0.5 * (r + g) - b
    return np.sqrt(rg.var() + yb.var()) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)


def wrong_hue(out, truth):
    lo, lt = color.rgb2lab(out), color.rgb2lab(truth)
    ct, co = np.hypot(lt[..., 1], lt[..., 2]), np.hypot(lo[..., 1], lo[..., 2])
    colourful = ct >= WRONG_HUE_TRUE_CHROMA
    if not colourful.any():
        return None
    d = np.abs(np.arctan2(lo[..., 2], lo[..., 1]) - np.arctan2(lt[..., 2], lt[..., 1])) * 180 / np.pi
    d = np.where(d > 180, 360 - d, d)
    return np.sum(colourful & (co >= WRONG_HUE_OUTPUT_CHROMA) & (d > WRONG_HUE_DEGREES)) / colourful.sum()


def photo_pairs(photos, mode):
    """(name, truth, reference) of every usable photo of the folder, as
    eval --photos --reference MODE takes them (8-bit RGB)."""
    for name in sorted(os.listdir(photos)):
        try:
            truth = rgb8(os.path.join(photos, name))
        except Exception:
            continue
        if mode in ("self", "split"):
            w = truth.shape[1]
            left = max(1, int(np.rint(w * (1 - SPLIT)))) if mode == "split" else 0
            ref = truth[:, left:] if mode == "split" else truth
            truth = truth[:, :left] if mode == "split" else truth
        else:
            path = os.path.join(mode, name)
            if not os.path.exists(path):
                continue
            ref = rgb8(path)
        lab = color.rgb2lab(truth)
        if np.hypot(lab[..., 1], lab[..., 2]).mean() < PHOTO_MIN_MEAN_CHROMA:
            continue
        yield name, truth, ref


def gray_of(truth):
    """The gray input: L* with a* = b* = 0, as 8-bit RGB."""
    lab = color.rgb2lab(truth)
    return to_rgb8(np.concatenate([lab[..., :1], np.zeros(lab.shape[:2] + (2,))], -1))


class Figures:
    """The summary figures of one method over the photos."""

    def __init__(self):
        self.gains, self.beats, self.hues, self.cf, self.cft = [], [], [], [], []

    def add(self, out, truth):
        """Adds one photo; returns its gain over gray."""
        p, pg = psnr(out, truth), psnr(gray_of(truth), truth)
        self.gains.append(p - pg), self.beats.append(p > pg)
        h = wrong_hue(out, truth)
        if h is not None:
            self.hues.append(h)
        self.cf.append(colourfulness(out)), self.cft.append(colourfulness(truth))
        return p - pg

    def summary(self):
        return (f"photos {len(self.gains)}  gain {np.mean(self.gains):+.2f} dB  beats gray "
                f"{100 * np.mean(self.beats):.0f}%  wrong hue {100 * np.mean(self.hues):.1f}%  colourfulness "
                f"{np.mean(self.cf) / np.mean(self.cft):.2f}x")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    photos, mode = sys.argv[1], sys.argv[2]
    fig = Figures()
    for name, truth, ref in photo_pairs(photos, mode):
        out = to_rgb8(transfer(color.rgb2lab(truth)[..., 0], color.rgb2lab(ref)))
        print(f"{name:24s} gain {fig.add(out, truth):+6.2f} dB", flush=True)
    if not fig.gains:
        sys.exit("no photo measured")
    print(f"plain transfer ({mode}): {fig.summary()}")


if __name__ == "__main__":
    main()
