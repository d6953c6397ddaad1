#!/usr/bin/python3
"""make_color_ref.py — writes color_ref.bin: sRGB <-> CIE Lab reference values
from scikit-image (rgb2lab / lab2rgb, D65, 2°), in the GLDN layout (gldn.py). Run with Debian's python3-skimage: /usr/bin/python3 make_color_ref.py"""
import sys
import warnings

import numpy as np
from skimage.color import lab2rgb, rgb2lab

from gldn import GoldenFile

rng = np.random.default_rng(20261126)
golden = GoldenFile()
put = golden.put


levels = np.array([0, 1, 2, 5, 10, 11, 30, 64, 100, 127, 128, 180, 200, 254, 255], dtype=np.uint8)
grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
rand8 = rng.integers(0, 256, (2000, 3), dtype=np.uint8)
rgb8 = np.concatenate([grid, rand8])
put("rgb8", rgb8)
put("rgb8_lab", rgb2lab(rgb8[None].astype(np.float64) / 255.0)[0])

rgbf = rng.random((2000, 3))
rgbf[:10] = 0.0
rgbf[10:20] = 1.0
put("rgbf", rgbf)
put("rgbf_lab", rgb2lab(rgbf[None])[0])

lab = np.stack([rng.uniform(0, 100, 3000), rng.uniform(-128, 127, 3000), rng.uniform(-128, 127, 3000)], -1)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # out-of-gamut values are clipped, as in the C code
    put("lab", lab)
    put("lab_rgb", lab2rgb(lab[None])[0])

golden.write(sys.argv[1] if len(sys.argv) > 1 else "color_ref.bin")
