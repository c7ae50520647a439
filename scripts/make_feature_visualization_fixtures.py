#!/usr/bin/env python3
"""Fixtures for FeatureVisualizationTests: Lucid's Fourier image parameterization computed
by the reference code, for given spectrum parameters.

- even width: Lucent's own `param.spatial.fft_image` (irfftn, norm='ortho', / 4), its
  parameter tensor overwritten with ours;
- odd width: Lucid's `fft_image` formula (TensorFlow's irfft2d, written with numpy's
  irfft2, which computes the same: output width 2 * (columns - 1) = W + 1, normalized by
  1 / (H * (W + 1)), then scaled by sqrt(H * W), cropped to W, / 4), with Lucid's
  `rfft2d_freqs`. Lucent differs from Lucid for odd widths (it keeps W/2 + 1 columns).

    Benchmarks/.venv/bin/python scripts/make_feature_visualization_fixtures.py
"""
import os

import numpy as np
import torch
from lucent.optvis.param.spatial import fft_image, rfft2d_freqs

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ConvVizCoreTests", "Fixtures", "feature-visualization")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(0)

# Even width: Lucent.
shape = (2, 3, 6, 8)
params, image_f = fft_image(shape, sd=0.01, decay_power=1)
p = rng.normal(size=tuple(params[0].shape)).astype(np.float32)
with torch.no_grad():
    params[0].copy_(torch.from_numpy(p))
    image = image_f().numpy().astype(np.float32)
np.save(os.path.join(OUT, "fft-even-params.npy"), p)
np.save(os.path.join(OUT, "fft-even-image.npy"), image)

# Odd width: Lucid's formula, decay 1.5.
b, c, h, w = 1, 2, 5, 7
decay = 1.5
freqs = rfft2d_freqs(h, w)
p = rng.normal(size=(b, c) + freqs.shape + (2,)).astype(np.float32)
spectrum = p[..., 0].astype(np.float64) + 1j * p[..., 1]
scale = 1.0 / np.maximum(freqs, 1.0 / max(w, h)) ** decay * np.sqrt(w * h)
image = np.fft.irfft2(scale * spectrum)[:, :, :h, :w] / 4.0
np.save(os.path.join(OUT, "fft-odd-params.npy"), p)
np.save(os.path.join(OUT, "fft-odd-image.npy"), image.astype(np.float32))
print("wrote", OUT)
