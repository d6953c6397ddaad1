#!/usr/bin/python3
"""make_metrics_ref.py — writes metrics_ref.bin: image pairs with their SSIM
(skimage.metrics.structural_similarity, Gaussian 11×11 σ 1.5, population
covariance, data range 255, channels last), PSNR (skimage) and
Hasler–Süsstrunk colourfulness (numpy), in the GLDN layout (gldn.py).
Run with Debian's python3-skimage: /usr/bin/python3 make_metrics_ref.py"""
import sys

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from gldn import GoldenFile

rng = np.random.default_rng(7)
golden = GoldenFile()
put = golden.put


def colorfulness(img):
    r, g, b = (img[..., c].astype(np.float64) for c in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)


shapes = [(32, 32), (32, 32), (32, 32), (27, 40), (64, 48), (11, 11)]
for i, (h, w) in enumerate(shapes):
    yy, xx = np.mgrid[0:h, 0:w]
    base = 128 + 80 * np.sin(xx[..., None] / (3 + i) + np.array([0, 1, 2])) * np.cos(yy[..., None] / 5.0)
    a = np.clip(base + rng.normal(0, 10, (h, w, 3)), 0, 255).round().astype(np.uint8)
    noise = [25, 5, 60, 15, 8, 30][i]
    b = np.clip(a.astype(np.float64) + rng.normal(0, noise, (h, w, 3)), 0, 255).round().astype(np.uint8)
    if i == 1:
        b = a.copy()  # identical: SSIM 1, PSNR capped
    ssim = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=255, channel_axis=2)
    psnr = 100.0 if i == 1 else peak_signal_noise_ratio(a, b, data_range=255)
    put(f"pair{i}.a", a)
    put(f"pair{i}.b", b)
    put(f"pair{i}.values", np.array([ssim, psnr, colorfulness(a), colorfulness(b)]))

golden.write(sys.argv[1] if len(sys.argv) > 1 else "metrics_ref.bin")
