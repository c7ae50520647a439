#!/usr/bin/env python3
"""An independent check of ConvViz's filter taxonomy (numpy only).

Classifies first-layer filters [N, 3, K, K] by a method that shares nothing with
FilterTaxonomy (which uses spectral concentration, pixel localization, the doubled-angle
spectral mean and the chromatic energy fraction):

- colour: the rank-1 SVD of the filter as a 3 x K^2 matrix, w ~ s1 c1 p1^T. The filter is
  colour-opponent when its dominant colour vector c1 (unit length) has one channel weight
  >= +0.3 and another <= -0.3 and that rank-1 part holds at least half the energy: one
  spatial pattern that some channels see with the opposite sign.
- edges: a least-squares fit of a 2-D Gabor (any phase) to the dominant spatial pattern p1,
  searched over 16 orientations, 6 frequencies, 4 envelope widths and every centre in the
  kernel. The filter is an oriented edge when the fit explains at least 60% of p1's
  energy, the envelope holds at least a quarter cycle (frequency x sigma >= 0.15, so a
  Gaussian dot is not an edge) and the best fit at the orthogonal orientation explains at
  most 2/3 as much (orientation energy ratio >= 1.5).

Controls printed with the result: uniform random filters (an initialization) and 1/f noise
filters, independent per channel (natural-image spectra without structure). The
self-check asserts 0% edges for both and <= 5% colour-opponent for uniform noise; 1/f
noise with independent channels scores about 6% colour-opponent (a dominant low-frequency
component in one channel), printed beside the result.
Reported two ways: edges and colour-opponent counted independently (a colour-opponent
edge counts in both), and exclusively (colour first, as FilterTaxonomy does).

Usage: independent_taxonomy.py FILE.safetensors [TENSOR ...]
(default tensors: conv1.weight, or every step_<n> of a conv1-steps file).
"""
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        payload = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__" or e["dtype"] != "F32":  # e.g. BatchNorm's int64 num_batches_tracked
            continue
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(payload[a:b], dtype="<f4").reshape(e["shape"]).astype(np.float64)
    return out


THETAS = np.arange(16) * np.pi / 16
FREQS = np.array([0.05, 0.08, 0.12, 0.17, 0.25, 0.35])  # cycles per pixel
SIGMAS = np.array([1.0, 1.5, 2.5, 4.0])


def gabor_bank(k):
    """Cosine and sine Gabors for every (theta, f, sigma, y0, x0): [T, F, S, K*K, K*K]."""
    y, x = np.mgrid[0:k, 0:k].astype(np.float64)
    c = np.arange(k, dtype=np.float64)
    # [T,F,S,Y0,X0,K,K]
    dy = y[None, None, None, None, None] - c[None, None, None, :, None, None, None]
    dx = x[None, None, None, None, None] - c[None, None, None, None, :, None, None]
    t = THETAS[:, None, None, None, None, None, None]
    f = FREQS[None, :, None, None, None, None, None]
    s = SIGMAS[None, None, :, None, None, None, None]
    u = dx * np.cos(t) + dy * np.sin(t)
    env = np.exp(-(dx * dx + dy * dy) / (2 * s * s))
    shape = (len(THETAS), len(FREQS), len(SIGMAS), k * k, k * k)
    return (env * np.cos(2 * np.pi * f * u)).reshape(shape), (env * np.sin(2 * np.pi * f * u)).reshape(shape)


_BANKS = {}


def gabor_fit(p):
    """Fraction of |p|^2 the best Gabor explains, for each orientation: [T], and the best's (f, sigma)."""
    k = int(round(np.sqrt(p.size)))
    if k not in _BANKS:
        gc, gs = gabor_bank(k)
        cc, ss, cs = (gc * gc).sum(-1), (gs * gs).sum(-1), (gc * gs).sum(-1)
        _BANKS[k] = (gc, gs, cc, ss, cs)
    gc, gs, cc, ss, cs = _BANKS[k]
    a, b = gc @ p, gs @ p
    det = cc * ss - cs * cs
    ok = det > 1e-9 * np.maximum(cc * ss, 1e-30)
    explained = np.where(ok, (ss * a * a - 2 * cs * a * b + cc * b * b) / np.where(ok, det, 1), np.where(cc > 0, a * a / np.maximum(cc, 1e-30), 0))
    explained /= max((p * p).sum(), 1e-30)
    per_theta = explained.reshape(len(THETAS), -1)
    best = np.unravel_index(np.argmax(explained), explained.shape)
    return per_theta.max(1), FREQS[best[1]], SIGMAS[best[2]], THETAS[best[0]]


def classify(w):
    c, k, _ = w.shape
    m = w.reshape(c, k * k)
    total = (m * m).sum()
    if total <= 0 or not np.isfinite(total):
        return dict(colour=False, edge=False)
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    c1, p1 = u[:, 0], vt[0]
    if c1.sum() < 0:
        c1, p1 = -c1, -p1
    rank1 = s[0] ** 2 / (s ** 2).sum()
    colour = c == 3 and rank1 >= 0.5 and c1.max() >= 0.3 and c1.min() <= -0.3
    fits, f, sigma, theta = gabor_fit(p1)
    best = int(np.argmax(fits))
    orthogonal = fits[(best + len(THETAS) // 2) % len(THETAS)]
    edge = fits[best] >= 0.6 and f * sigma >= 0.15 and fits[best] >= 1.5 * orthogonal
    return dict(colour=bool(colour), edge=bool(edge), gabor_r2=float(fits[best]), orientation_ratio=float(fits[best] / max(orthogonal, 1e-12)),
                frequency=float(f), sigma=float(sigma), orientation_deg=float(np.degrees(theta)), rank1=float(rank1), colour_vector=[float(v) for v in c1])


def summarize(weights):
    rows = [classify(w) for w in weights]
    n = len(rows)
    edge = sum(r["edge"] for r in rows) / n
    colour = sum(r["colour"] for r in rows) / n
    edge_only = sum(r["edge"] and not r["colour"] for r in rows) / n
    return dict(filters=n, oriented_edge=edge, colour_opponent=colour, oriented_edge_not_colour=edge_only), rows


def pink_noise(n, k, seed=0):
    """Filters of 1/f ("pink") noise, independently per channel: natural-image-like spectra, no structure."""
    rng = np.random.default_rng(seed)
    f = np.fft.fftfreq(k)
    r = np.hypot(f[:, None], f[None, :])
    r[0, 0] = 1
    return np.real(np.fft.ifft2(np.fft.fft2(rng.normal(size=(n, 3, k, k))) / r))


def self_check():
    """Gabors at several angles are edges; a dot, a blob, noise are not; a red-green blob is colour-opponent."""
    k = 11
    y, x = np.mgrid[0:k, 0:k] - 5.0
    rng = np.random.default_rng(0)
    for deg in (0, 30, 90, 135):
        t = np.radians(deg)
        g = np.exp(-(x * x + y * y) / (2 * 2.5 ** 2)) * np.sin(2 * np.pi * 0.15 * (x * np.cos(t) + y * np.sin(t)))
        r = classify(np.stack([g, g, g]))
        assert r["edge"] and not r["colour"], (deg, r)
    dot = np.zeros((k, k)); dot[2, 7] = 1
    blob = np.exp(-(x * x + y * y) / (2 * 2.0 ** 2))
    for name, p in (("dot", dot), ("blob", blob)):
        r = classify(np.stack([p, p, p]))
        assert not r["edge"] and not r["colour"], (name, r)
    r = classify(np.stack([blob, -blob, 0 * blob]))
    assert r["colour"], r
    noise = rng.uniform(-1, 1, (48, 3, k, k))
    s, _ = summarize(noise)
    assert s["oriented_edge"] == 0 and s["colour_opponent"] <= 0.05, s
    s, _ = summarize(pink_noise(200, k))
    assert s["oriented_edge"] <= 0.05, s  # its colour-opponent share (about 6%) is printed, not asserted


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    self_check()
    tensors = read_safetensors(sys.argv[1])
    names = sys.argv[2:] or (["conv1.weight"] if "conv1.weight" in tensors else sorted((n for n in tensors if n.startswith("step_")), key=lambda n: int(n[5:])))
    for name in names:
        w = tensors[name]
        s, _ = summarize(w)
        print(f"{name} {list(w.shape)}: {100 * s['oriented_edge']:.0f}% oriented edges (Gabor fit), {100 * s['colour_opponent']:.0f}% colour-opponent "
              f"(SVD colour vector), {100 * s['oriented_edge_not_colour']:.0f}% edges that are not colour-opponent")
    rng = np.random.default_rng(0)
    w = tensors[names[-1]]
    fan_in = w[0].size
    s, _ = summarize(rng.uniform(-1, 1, w.shape) / np.sqrt(fan_in))
    print(f"control, random uniform init {list(w.shape)}: {100 * s['oriented_edge']:.0f}% oriented edges, {100 * s['colour_opponent']:.0f}% colour-opponent")
    s, _ = summarize(pink_noise(w.shape[0], w.shape[2]))
    print(f"control, 1/f noise {list(w.shape)}: {100 * s['oriented_edge']:.0f}% oriented edges, {100 * s['colour_opponent']:.0f}% colour-opponent")


if __name__ == "__main__":
    main()
